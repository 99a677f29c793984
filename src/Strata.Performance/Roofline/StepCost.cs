namespace Strata.Performance.Roofline;

/// <summary>The roofline's breakdown of one iteration, per device of the tensor-parallel group.</summary>
/// <param name="Flops">Floating-point operations per device.</param>
/// <param name="Bytes">Bytes moved to and from device memory per device (weights, KV cache, activations).</param>
/// <param name="ComputeSeconds">Compute-bound time of the operator groups.</param>
/// <param name="MemorySeconds">Bandwidth-bound time of the operator groups.</param>
/// <param name="RooflineSeconds">Sum over operator groups of the larger of the two.</param>
/// <param name="CommunicationSeconds">Tensor-parallel all-reduce time.</param>
/// <param name="OverheadSeconds">Fixed and per-sequence overhead.</param>
public readonly record struct StepCost(
    double Flops,
    double Bytes,
    double ComputeSeconds,
    double MemorySeconds,
    double RooflineSeconds,
    double CommunicationSeconds,
    double OverheadSeconds)
{
    /// <summary>Predicted wall time of the iteration.</summary>
    public double TotalSeconds => RooflineSeconds + CommunicationSeconds + OverheadSeconds;

    /// <summary>Arithmetic intensity: FLOPs per byte moved.</summary>
    public double FlopsPerByte => Bytes > 0 ? Flops / Bytes : 0;
}
