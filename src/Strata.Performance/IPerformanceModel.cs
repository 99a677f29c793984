namespace Strata.Performance;

/// <summary>Predicts how long one iteration of a batch takes on a deployment.</summary>
/// <remarks>Implementations are immutable, thread-safe and allocation-free per call (the simulator calls them per step).</remarks>
public interface IPerformanceModel
{
    /// <summary>Short name for tables and JSON (<c>roofline</c>, <c>measured</c>).</summary>
    string Name { get; }

    /// <summary>The model, machine and precision this predicts for.</summary>
    Deployment Deployment { get; }

    /// <summary>Wall time of one forward pass over <paramref name="batch"/>, in seconds (0 for an empty batch).</summary>
    double StepSeconds(in BatchShape batch);
}
