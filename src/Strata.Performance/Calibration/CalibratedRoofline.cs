using System.Collections.Concurrent;
using Strata.Performance.Profiles;
using Strata.Performance.Roofline;

namespace Strata.Performance.Calibration;

/// <summary>Rooflines calibrated to measurements of the same deployment (the model the Splitwise hold-out validation scores).</summary>
/// <remarks>
/// There is no fallback to default factors: a deployment without fp16 measurements of its own is priced by the device
/// model (<see cref="Estimation.ScoredModel"/>), whose transfer to unmeasured models is what the cross-model validation scores.
/// </remarks>
public static class CalibratedRoofline
{
    private static readonly ConcurrentDictionary<(ProfileTable, ProfileKey), CalibrationFit> Fits = new();

    /// <summary>Whether <paramref name="table"/> has fp16/bf16 measurements of <paramref name="deployment"/> that survive screening.</summary>
    public static bool HasMeasurements(Deployment deployment, ProfileTable? table = null)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        table ??= ProfileTable.BuiltIn;
        return deployment.Precision is Core.Models.Precision.Fp16 or Core.Models.Precision.Bf16
            && ProfileScreening.Screen(table.RowsFor(ProfileKey.Of(deployment))).Kept.Count > 0;
    }

    /// <summary>A roofline for <paramref name="deployment"/> fitted to its own measurements, and where its factors come from.</summary>
    /// <returns>The model and a sentence naming the calibration source.</returns>
    /// <exception cref="Core.StrataException">The table has no fp16 measurements of the deployment (see <see cref="HasMeasurements"/>).</exception>
    public static (RooflineModel Model, string CalibrationSource) For(Deployment deployment, ProfileTable? table = null)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        table ??= ProfileTable.BuiltIn;
        var key = ProfileKey.Of(deployment);
        var (rows, _) = ProfileScreening.Screen(table.RowsFor(key));
        if (rows.Count == 0 || deployment.Precision is not (Core.Models.Precision.Fp16 or Core.Models.Precision.Bf16))
        {
            throw new Core.StrataException($"{table.Origin} has no fp16 measurements of {key}; a calibrated roofline needs some (unmeasured deployments are priced by the device model).");
        }

        var fit = Fits.GetOrAdd((table, key), _ => RooflineCalibrator.Fit(deployment, rows));
        return (new RooflineModel(deployment, fit.Calibration), $"fitted to {fit.Rows} measured rows of {key} in {table.Origin} (rms log error {fit.RmsLogError:F3})");
    }
}
