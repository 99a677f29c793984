using BenchmarkDotNet.Attributes;
using Strata.Performance;
using Strata.Performance.Calibration;
using Strata.Performance.Profiles;

namespace Strata.Benchmarks.Performance;

/// <summary>Cost of fitting the roofline to one deployment's measurements (what <c>strata estimate</c> pays once per deployment).</summary>
[MemoryDiagnoser]
[MedianColumn]
public class CalibrationBenchmarks
{
    private Deployment _deployment = null!;
    private IReadOnlyList<ProfileRow> _rows = null!;

    [GlobalSetup]
    public void Setup()
    {
        _deployment = Llama70bOnEightA100.Create();
        (_rows, _) = ProfileScreening.Screen(ProfileTable.BuiltIn.RowsFor(ProfileKey.Of(_deployment)));
    }

    /// <summary>Nelder-Mead fit over the screened rows of llama2-70b/a100-80gb/tp8 (105 measurements).</summary>
    [Benchmark]
    public CalibrationFit Fit() => RooflineCalibrator.Fit(_deployment, _rows);
}
