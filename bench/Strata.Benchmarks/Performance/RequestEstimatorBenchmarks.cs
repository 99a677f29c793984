using BenchmarkDotNet.Attributes;
using Strata.Performance;
using Strata.Performance.Estimation;
using Strata.Performance.Memory;
using Strata.Performance.Profiles;
using Strata.Performance.Roofline;

namespace Strata.Benchmarks.Performance;

/// <summary>Cost of estimating one request alone on the deployment: one prefill step and <c>output - 1</c> decode steps.</summary>
[MemoryDiagnoser]
[MedianColumn]
public class RequestEstimatorBenchmarks
{
    private IPerformanceModel _model = null!;
    private MemoryModel _memory = null!;

    /// <summary>Which performance model prices the steps.</summary>
    [Params(PerformanceProfile.Roofline, PerformanceProfile.Measured)]
    public PerformanceProfile Model { get; set; }

    /// <summary>Prompt tokens per request (Splitwise conversation median).</summary>
    [Params(1020)]
    public int PromptTokens { get; set; }

    /// <summary>Output tokens per request (Splitwise conversation median).</summary>
    [Params(129)]
    public int OutputTokens { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var deployment = Llama70bOnEightA100.Create();
        _model = Model == PerformanceProfile.Measured
            ? new MeasuredProfileModel(deployment, ProfileTable.BuiltIn)
            : new RooflineModel(deployment, RooflineCalibration.Default);
        _memory = new MemoryModel(deployment);
    }

    [Benchmark]
    public RequestEstimate Estimate() => RequestEstimator.Estimate(_model, _memory, PromptTokens, OutputTokens);
}
