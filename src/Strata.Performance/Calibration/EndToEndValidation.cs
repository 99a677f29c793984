using Strata.Core.Catalogs;
using Strata.Performance.Operators;
using Strata.Performance.Profiles;

namespace Strata.Performance.Calibration;

/// <summary>Scores <see cref="DeviceModel"/> end to end on the Splitwise measurements of a model its serving overhead was not fitted to.</summary>
/// <remarks>
/// Per measured device: the operator parameters come from the Vidur profiles of its GPU (which never saw BLOOM-176B,
/// and see Llama-2-70B only as operators); the serving overhead and attention efficiency are fitted on the Splitwise
/// rows of every other model on that device; the held-out model's prefill and decode step times are predicted.
/// </remarks>
/// <param name="Scores">One score per device and held-out model (<see cref="HeldOutScore.Prefill"/> is the prompt time, <see cref="HeldOutScore.Decode"/> the token time).</param>
/// <param name="Origin">The end-to-end measurements scored.</param>
public sealed record EndToEndValidation(IReadOnlyList<HeldOutScore> Scores, string Origin)
{
    /// <summary>Runs the study over every device of <paramref name="table"/> with at least two models that the catalog describes.</summary>
    public static EndToEndValidation Run(ProfileTable table, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(catalog);
        var (kept, _) = ProfileScreening.Screen(table.Rows);
        var rows = new List<(Deployment Deployment, ProfileRow Row)>();
        foreach (var key in table.Keys)
        {
            if (HoldoutValidation.Resolve(key, catalog) is { } deployment)
            {
                rows.AddRange(kept.Where(row => row.Key == key).Select(row => (deployment, row)));
            }
        }

        var scores = new List<HeldOutScore>();
        foreach (var device in rows.GroupBy(pair => pair.Deployment.Device.Id.Value).OrderBy(group => group.Key, StringComparer.Ordinal))
        {
            var spec = device.First().Deployment.Device;
            var gpu = ProfiledDevices.For(spec).Gpu;
            var node = ProfiledDevices.SharesNode(spec, gpu);
            var collectives = node ? CollectiveProfileTable.BuiltIn : null;
            var cluster = node ? ProfiledDevices.Cluster(gpu) : null;
            var parameters = DeviceModels.Parameters(gpu).Parameters;
            var models = device.Select(pair => pair.Deployment.Model.Id.Value).Distinct().Order(StringComparer.Ordinal).ToArray();
            if (models.Length < 2)
            {
                continue;
            }

            foreach (var heldOut in models)
            {
                var train = device.Where(pair => pair.Deployment.Model.Id.Value != heldOut).ToArray();
                var (overhead, rms) = ServingOverheadFitter.Fit(train, parameters, collectives, cluster);
                var prompt = new List<(double, double)>();
                var token = new List<(double, double)>();
                foreach (var group in device.Where(pair => pair.Deployment.Model.Id.Value == heldOut).GroupBy(pair => pair.Deployment))
                {
                    var model = new DeviceModel(group.Key, parameters, overhead, collectives, cluster);
                    foreach (var (_, row) in group)
                    {
                        prompt.Add((model.StepSeconds(BatchShape.Prefill(row.BatchSize, row.PromptTokens)), row.PromptSeconds));
                        token.Add((model.StepSeconds(BatchShape.Decode(row.BatchSize, row.MeanDecodeContextTokens)), row.TokenSeconds));
                    }
                }

                scores.Add(new HeldOutScore(device.Key, heldOut, $"{gpu} operator parameters; overhead fitted on {string.Join(", ", models.Where(m => m != heldOut))}", rms, ErrorSummary.Of(prompt), ErrorSummary.Of(token)));
            }
        }

        return new EndToEndValidation(scores, table.Origin);
    }
}
