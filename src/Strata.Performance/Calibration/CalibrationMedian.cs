using Strata.Core.Catalogs;
using Strata.Performance.Profiles;
using Strata.Performance.Roofline;

namespace Strata.Performance.Calibration;

/// <summary>Derives factors for unmeasured deployments: the per-factor median of full fits to every measured deployment.</summary>
public static class CalibrationMedian
{
    /// <summary>Fits every deployment of <paramref name="table"/> the catalog can describe, on all its (screened) rows, and takes medians.</summary>
    public static RooflineCalibration Derive(ProfileTable table, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(table);
        var (kept, _) = ProfileScreening.Screen(table.Rows);
        var fits = new List<RooflineCalibration>();
        foreach (var key in table.Keys)
        {
            if (HoldoutValidation.Resolve(key, catalog) is { } deployment)
            {
                fits.Add(RooflineCalibrator.Fit(deployment, kept.Where(row => row.Key == key).ToArray()).Calibration);
            }
        }

        return Of(fits);
    }

    /// <summary>The per-factor median of <paramref name="calibrations"/>.</summary>
    public static RooflineCalibration Of(IReadOnlyCollection<RooflineCalibration> calibrations)
    {
        ArgumentNullException.ThrowIfNull(calibrations);
        ArgumentOutOfRangeException.ThrowIfZero(calibrations.Count);
        double Median(Func<RooflineCalibration, double> factor) => Samples.Median(calibrations.Select(factor));
        return new RooflineCalibration(
            Median(c => c.ComputeEfficiency),
            Median(c => c.MemoryEfficiency),
            Median(c => c.StepOverheadSeconds),
            Median(c => c.SequenceOverheadSeconds),
            Median(c => c.LargeBatchPenalty),
            Median(c => c.LargeBatchKneeTokens));
    }
}
