using Strata.Core;

namespace Strata.Performance.Profiles;

/// <summary>SplitwiseSim's <c>DatabasePerformanceModel</c>: step times looked up on two curves of measured medians, by the step's token count alone.</summary>
/// <remarks>
/// For one deployment, every measured row gets x = prompt_size x batch_size; the prompt curve holds the median
/// <c>prompt_time</c> at each x and the token curve the median <c>token_time</c> at each x (all rows, no screening).
/// Between measured x the curves interpolate linearly; outside they extrapolate the first or last segment (scipy's
/// <c>interp1d(fill_value="extrapolate")</c>). A step's x is its prompt tokens plus one per decode. A prefill-only step
/// costs prompt(x); a decode-only step token(x), so a decode step of n requests costs token(n), below the smallest
/// measured x and whatever the contexts; a mixed step costs prompt(x) x 1.1. This is a compatibility model
/// (<c>--perf splitwisesim-db</c>); it ignores context length on purpose, to reproduce SplitwiseSim.
/// </remarks>
public sealed class SplitwiseSimDatabaseModel : IPerformanceModel
{
    /// <summary>SplitwiseSim's factor on a mixed (prompt and decode) step.</summary>
    public const double MixedStepFactor = 1.1;

    private readonly double[] _x;
    private readonly double[] _promptSeconds;
    private readonly double[] _tokenSeconds;

    /// <summary>Builds the curves for <paramref name="deployment"/> from the table's rows for it.</summary>
    /// <exception cref="StrataException">The table has fewer than two distinct x for this deployment.</exception>
    public SplitwiseSimDatabaseModel(Deployment deployment, ProfileTable table)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(table);
        Deployment = deployment;
        var groups = table.RowsFor(ProfileKey.Of(deployment))
            .GroupBy(row => (double)row.PromptTokens * row.BatchSize)
            .OrderBy(group => group.Key)
            .ToArray();
        if (groups.Length < 2)
        {
            throw new StrataException(
                $"--perf splitwisesim-db needs measured rows at two or more batch token counts for {deployment.Model.Id} on {deployment.Device.Id} with tensor parallelism {deployment.TensorParallel} in {table.Origin}; " +
                $"found {groups.Length}. Measured deployments: {string.Join(", ", table.Keys)}.");
        }

        _x = [.. groups.Select(group => group.Key)];
        _promptSeconds = [.. groups.Select(group => Samples.Median(group.Select(row => row.PromptSeconds)))];
        _tokenSeconds = [.. groups.Select(group => Samples.Median(group.Select(row => row.TokenSeconds)))];
    }

    /// <inheritdoc />
    public string Name => "splitwisesim-db";

    /// <inheritdoc />
    public Deployment Deployment { get; }

    /// <summary>The prompt curve at <paramref name="batchTokens"/>, in seconds.</summary>
    public double PromptSeconds(double batchTokens) => Interpolate(_promptSeconds, batchTokens);

    /// <summary>The token curve at <paramref name="batchTokens"/>, in seconds.</summary>
    public double TokenSeconds(double batchTokens) => Interpolate(_tokenSeconds, batchTokens);

    /// <inheritdoc />
    public double StepSeconds(in BatchShape batch)
    {
        if (batch.IsEmpty)
        {
            return 0;
        }

        double x = batch.Tokens;
        if (batch.PrefillTokens == 0)
        {
            return TokenSeconds(x);
        }

        return batch.DecodeRequests == 0 ? PromptSeconds(x) : PromptSeconds(x) * MixedStepFactor;
    }

    private double Interpolate(double[] y, double x)
    {
        var n = _x.Length;
        int low;
        if (x <= _x[0])
        {
            low = 0;
        }
        else if (x >= _x[n - 1])
        {
            low = n - 2;
        }
        else
        {
            var index = Array.BinarySearch(_x, x);
            if (index >= 0)
            {
                return y[index];
            }

            low = ~index - 1;
        }

        var slope = (y[low + 1] - y[low]) / (_x[low + 1] - _x[low]);
        return y[low] + slope * (x - _x[low]);
    }
}
