using Strata.Core;

namespace Strata.Performance.Operators;

/// <summary>The terms of a step that the operator profiles do not time, fitted to end-to-end measurements (Splitwise).</summary>
/// <remarks>
/// The serving stack (vLLM-style scheduling, sampling, Python and launch gaps between kernels) costs
/// <see cref="LayerSeconds"/> per layer per iteration plus <see cref="SequenceSeconds"/> per sequence. Per layer, not per
/// step: the measured decode step hardly changes from tensor parallelism 2 to 8 while each shard's work falls 4x, so
/// the overhead is host-side launch time, and a step launches the same kernels for every layer. (The Splitwise models
/// have 70 and 80 layers, so the data cannot tell a per-layer from a per-step term; this is the modelling choice.) attention, which the
/// operator profiles do not time, runs at <see cref="AttentionEfficiency"/> of peak FLOP/s (memory-bound attention at
/// the device's GEMM memory efficiency). Steps of many tokens lose throughput in the measured serving stack (the
/// Splitwise prefill throughput peaks near 2,048 tokens and falls past it, while Vidur's GEMM times per token stay
/// flat to 32k tokens): the layer compute is divided by <c>1 - penalty x n^2 / (n^2 + knee^2)</c>.
/// </remarks>
/// <param name="LayerSeconds">Host-side cost per layer per iteration, >= 0.</param>
/// <param name="SequenceSeconds">Cost per sequence in the iteration, >= 0.</param>
/// <param name="AttentionEfficiency">Share of peak FLOP/s achieved by attention, in (0, 1].</param>
/// <param name="LargeStepPenalty">Share of throughput lost by very large steps, in [0, 1).</param>
/// <param name="LargeStepKneeTokens">Step size (tokens) at which half that loss has set in, > 0.</param>
public sealed record ServingOverhead(double LayerSeconds, double SequenceSeconds, double AttentionEfficiency, double LargeStepPenalty = 0, double LargeStepKneeTokens = 4096)
{
    /// <summary>No serving overhead and attention at the GEMM peak: the operator sum alone (for tests and bounds).</summary>
    public static ServingOverhead None { get; } = new(0, 0, 1);

    /// <summary>The throughput multiplier for a step of <paramref name="tokens"/> tokens.</summary>
    public double LargeStepFactor(double tokens)
    {
        var squared = tokens * tokens;
        return 1 - LargeStepPenalty * squared / (squared + LargeStepKneeTokens * LargeStepKneeTokens);
    }

    /// <summary>Checks every term is in its range.</summary>
    /// <exception cref="StrataException">A term is out of range.</exception>
    public ServingOverhead Validate()
    {
        if (!(LayerSeconds >= 0 && double.IsFinite(LayerSeconds)) || !(SequenceSeconds >= 0 && double.IsFinite(SequenceSeconds)) || AttentionEfficiency is not (> 0 and <= 1)
            || LargeStepPenalty is not (>= 0 and < 1) || !(LargeStepKneeTokens > 0 && double.IsFinite(LargeStepKneeTokens)))
        {
            throw new StrataException($"Serving overhead ({LayerSeconds} s per layer, {SequenceSeconds} s per sequence, attention efficiency {AttentionEfficiency}, large-step penalty {LargeStepPenalty} at {LargeStepKneeTokens} tokens) is out of range; expected overheads >= 0, an efficiency in (0, 1], a penalty in [0, 1) and a positive knee.");
        }

        return this;
    }
}
