using Strata.Core;
using Strata.Core.Catalogs;
using Strata.Performance.Operators;
using Strata.Performance.Profiles;

namespace Strata.Performance.Calibration;

/// <summary>Scores the per-device operator model on measurements it was not fitted to.</summary>
/// <remarks>
/// The quantity predicted is the sum of a layer's measured operators (projections, MLP, norms, rotary embedding,
/// activation, residual add; one tensor-parallel shard), the part of a step the operator profiles time. Prefill is
/// scored at 512-4,096 tokens, decode at 1-64 tokens: a decode step of 1-64 sequences runs these operators on one
/// token per sequence whatever the context, so its context (1-4k) only changes attention, which the profiles do
/// not time and the model keeps analytical.
/// </remarks>
/// <param name="Holdout">What each fit left out.</param>
/// <param name="Scores">One score per GPU and held-out group.</param>
/// <param name="Origin">The operator profiles scored.</param>
public sealed record CrossModelValidation(CrossModelHoldout Holdout, IReadOnlyList<HeldOutScore> Scores, string Origin)
{
    /// <summary>Smallest prefill step scored.</summary>
    public const int MinPrefillTokens = 512;

    /// <summary>Largest prefill step scored.</summary>
    public const int MaxPrefillTokens = 4096;

    /// <summary>Largest decode batch scored.</summary>
    public const int MaxDecodeTokens = 64;

    /// <summary>Per GPU: the median over held-out groups of their median errors, and the largest of their p90 errors.</summary>
    public IEnumerable<(string Gpu, double PrefillMedianPercent, double PrefillWorstP90Percent, double DecodeMedianPercent, double DecodeWorstP90Percent)> PerGpu() =>
        Scores.GroupBy(score => score.Gpu).OrderBy(group => group.Key, StringComparer.Ordinal).Select(group => (
            group.Key,
            Profiles.Samples.Median(group.Select(s => s.Prefill.MedianPercent)),
            group.Max(s => s.Prefill.P90Percent),
            Profiles.Samples.Median(group.Select(s => s.Decode.MedianPercent)),
            group.Max(s => s.Decode.P90Percent)));

    /// <summary>Runs the study over every GPU of <paramref name="table"/>.</summary>
    /// <exception cref="StrataException">A GPU has a single group to hold out (nothing left to fit).</exception>
    public static CrossModelValidation Run(OperatorProfileTable table, Catalog catalog, CrossModelHoldout holdout)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(catalog);
        var scores = new List<HeldOutScore>();
        var gpus = table.Gpus;
        if (holdout == CrossModelHoldout.Gpu)
        {
            if (gpus.Count < 2)
            {
                throw new StrataException($"{table.Origin}: leave-one-GPU-out needs profiles of two GPUs; it has {string.Join(", ", gpus)}.");
            }

            var fits = gpus.ToDictionary(gpu => gpu, gpu => DeviceFitter.Fit(table.RowsOn(gpu), ProfiledDevices.Rates(gpu, catalog)));
            foreach (var target in gpus)
            {
                foreach (var source in gpus.Where(gpu => gpu != target))
                {
                    scores.Add(Score(target, source, $"all {source} profiles", fits[source], table.RowsOn(target), ProfiledDevices.Rates(target, catalog)));
                }
            }

            return new CrossModelValidation(holdout, scores, table.Origin);
        }

        foreach (var gpu in gpus)
        {
            var rows = table.RowsOn(gpu);
            var rates = ProfiledDevices.Rates(gpu, catalog);
            Func<OperatorProfileRow, string> groupOf = holdout == CrossModelHoldout.Model ? row => row.Model : row => $"tp{row.TensorParallel}";
            var groups = rows.Select(groupOf).Distinct().Order(StringComparer.Ordinal).ToArray();
            if (groups.Length < 2)
            {
                throw new StrataException($"{table.Origin}: {gpu} has only {groups.Length} {(holdout == CrossModelHoldout.Model ? "model" : "tensor-parallel degree")}; leaving it out leaves nothing to fit.");
            }

            foreach (var group in groups)
            {
                var train = rows.Where(row => groupOf(row) != group).ToArray();
                var test = rows.Where(row => groupOf(row) == group).ToArray();
                var fit = DeviceFitter.Fit(train, rates);
                scores.Add(Score(gpu, group, $"{fit.Models.Count} models, {train.Select(r => r.TensorParallel).Distinct().Count()} TP degrees", fit, test, rates));
            }
        }

        return new CrossModelValidation(holdout, scores, table.Origin);
    }

    private static HeldOutScore Score(string gpu, string heldOut, string fittedOn, DeviceFit fit, IReadOnlyList<OperatorProfileRow> test, DeviceRates rates)
    {
        var prefill = new List<(double, double)>();
        var decode = new List<(double, double)>();
        foreach (var row in test)
        {
            var inPrefill = row.Tokens is >= MinPrefillTokens and <= MaxPrefillTokens;
            var inDecode = row.Tokens <= MaxDecodeTokens;
            if (!inPrefill && !inDecode)
            {
                continue;
            }

            var predicted = OperatorCosts.LayerSeconds(fit.Parameters, rates, row.Shape, row.Tokens, row.TensorParallel, row.Has(LayerOperator.PostAttentionNorm));
            (inPrefill ? prefill : decode).Add((predicted, row.LayerSeconds));
        }

        return new HeldOutScore(gpu, heldOut, fittedOn, fit.RmsLogError, ErrorSummary.Of(prefill), ErrorSummary.Of(decode));
    }
}
