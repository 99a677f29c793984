using Strata.Core;

namespace Strata.Performance.Profiles;

/// <summary>A performance model that interpolates measured timings of the same deployment.</summary>
/// <remarks>
/// Prefill: piecewise-linear in the step's prompt tokens over the medians of the measured configurations
/// (as SplitwiseSim; a mixed step with decodes costs the prompt curve at prompt tokens plus decodes, x 1.1).
/// Decode: piecewise-linear in the batch size at the most-measured context length, scaled by how batch-1
/// decode time varies with context (so, unlike SplitwiseSim, longer contexts cost more).
/// </remarks>
public sealed class MeasuredProfileModel : IPerformanceModel
{
    /// <summary>How much slower a mixed prefill-and-decode step is than a pure prefill of as many tokens (SplitwiseSim's factor).</summary>
    public const double MixedBatchFactor = 1.1;

    private readonly PiecewiseLinear _prefillByTokens;
    private readonly PiecewiseLinear _decodeByBatch;
    private readonly PiecewiseLinear _decodeByContext;
    private readonly double _referenceDecodeSeconds;

    /// <summary>Builds the model for <paramref name="deployment"/> from the table's rows for it.</summary>
    /// <exception cref="StrataException">The table has no rows for this deployment; the message lists those it has.</exception>
    public MeasuredProfileModel(Deployment deployment, ProfileTable table)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(table);
        Deployment = deployment;
        var key = ProfileKey.Of(deployment);
        var (rows, _) = ProfileScreening.Screen(table.RowsFor(key));
        if (rows.Count == 0)
        {
            throw new StrataException(
                $"No measured profile for {deployment.Model.Id} on {deployment.Device.Id} with tensor parallelism {deployment.TensorParallel} in {table.Origin}; " +
                $"measured: {string.Join(", ", table.Keys)}. Use --profile roofline, or give a CSV of your own measurements.");
        }

        Rows = rows;
        _prefillByTokens = new PiecewiseLinear(rows
            .GroupBy(row => (double)row.PromptTokens * row.BatchSize)
            .Select(group => (group.Key, Samples.Median(group.Select(row => row.PromptSeconds)))));

        var referenceContext = rows
            .GroupBy(row => row.MeanDecodeContextTokens)
            .OrderByDescending(group => group.Count()).ThenBy(group => group.Key)
            .First().Key;
        ReferenceContextTokens = referenceContext;
        _decodeByBatch = new PiecewiseLinear(rows
            .Where(row => row.MeanDecodeContextTokens == referenceContext)
            .GroupBy(row => (double)row.BatchSize)
            .Select(group => (group.Key, Samples.Median(group.Select(row => row.TokenSeconds)))));

        var smallestBatch = rows.Min(row => row.BatchSize);
        _decodeByContext = new PiecewiseLinear(rows
            .Where(row => row.BatchSize == smallestBatch)
            .GroupBy(row => (double)row.MeanDecodeContextTokens)
            .Select(group => (group.Key, Samples.Median(group.Select(row => row.TokenSeconds)))));
        _referenceDecodeSeconds = _decodeByContext.Evaluate(referenceContext);
    }

    /// <inheritdoc />
    public string Name => "measured";

    /// <inheritdoc />
    public Deployment Deployment { get; }

    /// <summary>The measured rows used.</summary>
    public IReadOnlyList<ProfileRow> Rows { get; }

    /// <summary>The context length at which the batch-size curve was measured.</summary>
    public int ReferenceContextTokens { get; }

    /// <inheritdoc />
    public double StepSeconds(in BatchShape batch)
    {
        if (batch.IsEmpty)
        {
            return 0;
        }

        if (batch.PrefillTokens > 0)
        {
            var prefill = _prefillByTokens.Evaluate(batch.PrefillTokens + batch.DecodeRequests);
            return batch.DecodeRequests > 0 ? prefill * MixedBatchFactor : prefill;
        }

        var meanContext = (double)batch.DecodeContextTokens / batch.DecodeRequests;
        var contextScale = _decodeByContext.Evaluate(meanContext) / _referenceDecodeSeconds;
        return _decodeByBatch.Evaluate(batch.DecodeRequests) * contextScale;
    }

}
