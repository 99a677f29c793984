using BenchmarkDotNet.Attributes;
using Strata.Performance;
using Strata.Performance.Estimation;
using Strata.Performance.Profiles;
using Strata.Performance.Roofline;

namespace Strata.Benchmarks.Performance;

/// <summary>Cost of pricing one iteration: <see cref="IPerformanceModel.StepSeconds"/>, which the simulator calls per step.</summary>
/// <remarks>Both models promise to allocate nothing per call; the Allocated column should read <c>-</c>.</remarks>
[MemoryDiagnoser]
[MedianColumn]
public class StepSecondsBenchmarks
{
    private IPerformanceModel _model = null!;
    private BatchShape _shape;

    /// <summary>Which performance model prices the step.</summary>
    [Params(PerformanceProfile.Roofline, PerformanceProfile.Measured)]
    public PerformanceProfile Model { get; set; }

    /// <summary>The step priced.</summary>
    [ParamsSource(nameof(Steps))]
    public StepCase Step { get; set; } = null!;

    /// <summary>The steps of <see cref="Step"/>.</summary>
    public static IEnumerable<StepCase> Steps => StepCase.All;

    [GlobalSetup]
    public void Setup()
    {
        var deployment = Llama70bOnEightA100.Create();
        _model = Model == PerformanceProfile.Measured
            ? new MeasuredProfileModel(deployment, ProfileTable.BuiltIn)
            : new RooflineModel(deployment, RooflineCalibration.Default);
        _shape = Step.Shape;
    }

    [Benchmark]
    public double StepSeconds() => _model.StepSeconds(_shape);
}
