using Strata.Core;
using Strata.Core.Catalogs;
using Strata.Core.Hardware;
using Strata.Core.Models;
using Strata.Performance.Profiles;
using Strata.Performance.Roofline;

namespace Strata.Performance.Calibration;

/// <summary>Calibrates the roofline on part of a profile table and scores it on the rest.</summary>
/// <remarks>
/// The split is by configuration, not by row: the profiles repeat each (prompt, batch, output) five times, so
/// holding out single rows would score the fit on near-copies of what it saw. Per deployment, a seeded shuffle
/// holds out <c>round(fraction x configurations)</c> configurations and every row of each.
/// </remarks>
public sealed record HoldoutValidation(
    IReadOnlyList<DeploymentValidation> Deployments,
    ErrorSummary PromptTime,
    ErrorSummary TokenTime,
    IReadOnlyList<string> Excluded,
    double HoldoutFraction,
    int Seed)
{
    /// <summary>Runs the study over every deployment of <paramref name="table"/> that the catalog can describe.</summary>
    /// <exception cref="StrataException">No deployment of the table matches a catalog model and device.</exception>
    public static HoldoutValidation Run(ProfileTable table, Catalog catalog, double holdoutFraction = 0.2, int seed = 42)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(catalog);
        if (holdoutFraction is <= 0 or >= 1)
        {
            throw new StrataException($"Hold-out fraction is {holdoutFraction}; expected a number in (0, 1).");
        }

        var (kept, excluded) = ProfileScreening.Screen(table.Rows);
        var results = new List<DeploymentValidation>();
        var promptPairs = new List<(double, double)>();
        var tokenPairs = new List<(double, double)>();
        foreach (var key in table.Keys)
        {
            var deployment = Resolve(key, catalog);
            if (deployment is null)
            {
                continue;
            }

            var rows = kept.Where(row => row.Key == key).ToArray();
            var configurations = rows.Select(row => row.Configuration).Distinct().OrderBy(c => c.PromptTokens).ThenBy(c => c.BatchSize).ThenBy(c => c.OutputTokens).ToArray();
            var random = new Random(Stable($"{seed}/{ProfileKey.Normalize(key.Model)}/{ProfileKey.Normalize(key.Hardware)}/{key.TensorParallel}"));
            random.Shuffle(configurations);
            var testCount = Math.Max(1, (int)Math.Round(holdoutFraction * configurations.Length));
            if (testCount >= configurations.Length)
            {
                throw new StrataException($"Hold-out fraction {holdoutFraction} leaves none of the {configurations.Length} measured configurations of {key} to fit; expected a smaller fraction.");
            }

            var test = configurations.Take(testCount).ToHashSet();
            var trainRows = rows.Where(row => !test.Contains(row.Configuration)).ToArray();
            var testRows = rows.Where(row => test.Contains(row.Configuration)).ToArray();

            var fit = RooflineCalibrator.Fit(deployment, trainRows);
            var model = new RooflineModel(deployment, fit.Calibration);
            var prompt = testRows.Select(row => (model.StepSeconds(BatchShape.Prefill(row.BatchSize, row.PromptTokens)), row.PromptSeconds)).ToArray();
            var token = testRows.Select(row => (model.StepSeconds(BatchShape.Decode(row.BatchSize, row.MeanDecodeContextTokens)), row.TokenSeconds)).ToArray();
            promptPairs.AddRange(prompt);
            tokenPairs.AddRange(token);
            results.Add(new DeploymentValidation(key, fit.Calibration, fit.RmsLogError, configurations.Length - testCount, testCount, ErrorSummary.Of(prompt), ErrorSummary.Of(token)));
        }

        if (results.Count == 0)
        {
            throw new StrataException($"{table.Origin}: none of its deployments ({string.Join(", ", table.Keys)}) matches a catalog model and device.");
        }

        return new HoldoutValidation(results, ErrorSummary.Of(promptPairs), ErrorSummary.Of(tokenPairs), excluded, holdoutFraction, seed);
    }

    /// <summary>The catalog deployment a profile key describes (fp16, one tensor-parallel group), or null.</summary>
    public static Deployment? Resolve(ProfileKey key, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var model = catalog.Models.FirstOrDefault(m => ProfileKey.Normalize(m.Id.Value) == ProfileKey.Normalize(key.Model));
        var device = catalog.Devices.FirstOrDefault(d => ProfileKey.Normalize(d.Id.Value) == ProfileKey.Normalize(key.Hardware));
        return model is null || device is null ? null : new Deployment(model, MachineSpec.Of(device, key.TensorParallel), Precision.Fp16);
    }

    // string.GetHashCode and HashCode.Combine are randomised per process; seeds must not be.
    private static int Stable(string text)
    {
        var hash = 17;
        foreach (var c in text)
        {
            hash = unchecked(hash * 31 + c);
        }

        return hash;
    }
}
