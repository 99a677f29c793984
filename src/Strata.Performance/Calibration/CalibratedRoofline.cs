using System.Collections.Concurrent;
using Strata.Performance.Profiles;
using Strata.Performance.Roofline;

namespace Strata.Performance.Calibration;

/// <summary>Rooflines calibrated to measurements of the same deployment when a profile has them, else with default factors.</summary>
public static class CalibratedRoofline
{
    private static readonly ConcurrentDictionary<(ProfileTable, ProfileKey), CalibrationFit> Fits = new();

    /// <summary>A roofline for <paramref name="deployment"/>, and where its factors come from.</summary>
    /// <returns>The model and a sentence naming the calibration source.</returns>
    public static (RooflineModel Model, string CalibrationSource) For(Deployment deployment, ProfileTable? table = null)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        table ??= ProfileTable.BuiltIn;
        var key = ProfileKey.Of(deployment);
        var (rows, _) = ProfileScreening.Screen(table.RowsFor(key));
        if (rows.Count == 0 || deployment.Precision is not (Core.Models.Precision.Fp16 or Core.Models.Precision.Bf16))
        {
            return (new RooflineModel(deployment, RooflineCalibration.Default), "default factors (no fp16 measurements of this deployment)");
        }

        var fit = Fits.GetOrAdd((table, key), _ => RooflineCalibrator.Fit(deployment, rows));
        return (new RooflineModel(deployment, fit.Calibration), $"fitted to {fit.Rows} measured rows of {key} in {table.Origin} (rms log error {fit.RmsLogError:F3})");
    }
}
