using Strata.Core;

namespace Strata.Performance.Roofline;

/// <summary>The fitted factors that turn a roofline's ideal times into predicted ones.</summary>
/// <remarks>
/// Predicted step time = <see cref="StepOverheadSeconds"/> + <see cref="SequenceOverheadSeconds"/> x sequences
/// + max(compute / (<see cref="ComputeEfficiency"/> x peak x slowdown), bytes / (<see cref="MemoryEfficiency"/> x bandwidth))
/// per operator group + tensor-parallel all-reduce time, where the large-batch slowdown is
/// 1 - <see cref="LargeBatchPenalty"/> x n^2 / (n^2 + <see cref="LargeBatchKneeTokens"/>^2) for n tokens in the step
/// (measured prefill throughput peaks near 2,048 tokens and falls past it).
/// </remarks>
/// <param name="ComputeEfficiency">Share of peak FLOP/s achieved by matrix products, in (0, 1].</param>
/// <param name="MemoryEfficiency">Share of peak memory bandwidth achieved, in (0, 1].</param>
/// <param name="StepOverheadSeconds">Fixed cost per iteration (scheduling, kernel launches, sampling), >= 0.</param>
/// <param name="SequenceOverheadSeconds">Cost per sequence in the iteration (per-request bookkeeping, sampling), >= 0.</param>
/// <param name="LargeBatchPenalty">How much compute efficiency is lost for very large steps, in [0, 1).</param>
/// <param name="LargeBatchKneeTokens">Step size (tokens) at which half that loss has set in, > 0.</param>
public sealed record RooflineCalibration(
    double ComputeEfficiency,
    double MemoryEfficiency,
    double StepOverheadSeconds,
    double SequenceOverheadSeconds,
    double LargeBatchPenalty,
    double LargeBatchKneeTokens)
{
    /// <summary>The ideal roofline: full peak, full bandwidth, no overheads. For hand-checked tests and upper bounds.</summary>
    public static RooflineCalibration Ideal { get; } = new(1, 1, 0, 0, 0, 1);

    /// <summary>Factors for a deployment without measurements of its own.</summary>
    /// <remarks>
    /// The medians of the per-deployment fits to the 1,260 Splitwise measurements (12 deployments of
    /// Llama-2-70B and BLOOM-176B on A100 and H100), rounded; <c>strata calibrate</c> prints them and a test
    /// keeps these constants within 15% of the current fit. See docs/validation.md.
    /// </remarks>
    public static RooflineCalibration Default { get; } = new(0.53, 1.0, 0.015, 0.00031, 0.32, 3600);

    /// <summary>The compute-efficiency multiplier for a step of <paramref name="tokens"/> tokens.</summary>
    public double LargeBatchFactor(double tokens)
    {
        var squared = tokens * tokens;
        return 1 - LargeBatchPenalty * squared / (squared + LargeBatchKneeTokens * LargeBatchKneeTokens);
    }

    /// <summary>Checks every factor is in its range.</summary>
    /// <exception cref="StrataException">A factor is out of range.</exception>
    public RooflineCalibration Validate()
    {
        Check(ComputeEfficiency > 0 && ComputeEfficiency <= 1, nameof(ComputeEfficiency), ComputeEfficiency, "in (0, 1]");
        Check(MemoryEfficiency > 0 && MemoryEfficiency <= 1, nameof(MemoryEfficiency), MemoryEfficiency, "in (0, 1]");
        Check(StepOverheadSeconds >= 0, nameof(StepOverheadSeconds), StepOverheadSeconds, ">= 0");
        Check(SequenceOverheadSeconds >= 0, nameof(SequenceOverheadSeconds), SequenceOverheadSeconds, ">= 0");
        Check(LargeBatchPenalty >= 0 && LargeBatchPenalty < 1, nameof(LargeBatchPenalty), LargeBatchPenalty, "in [0, 1)");
        Check(LargeBatchKneeTokens > 0, nameof(LargeBatchKneeTokens), LargeBatchKneeTokens, "> 0");
        return this;
    }

    private static void Check(bool ok, string field, double value, string expected)
    {
        if (!ok || !double.IsFinite(value))
        {
            throw new StrataException($"Roofline calibration {field} is {value}; expected a finite number {expected}.");
        }
    }
}
