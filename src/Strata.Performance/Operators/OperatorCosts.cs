using Strata.Performance.Profiles;

namespace Strata.Performance.Operators;

/// <summary>Predicted time of each layer operator from its shape and a device's fitted parameters.</summary>
/// <remarks>
/// Shapes per tensor-parallel shard of t devices, for n tokens, width h, heads a of width d, KV heads g, MLP width I:
/// QKV projection n x h by h x (a + 2g) d / t; output projection n x (a d / t) by (a d / t) x h; MLP up
/// n x h by h x (2 if gated) I / t; MLP down n x (I / t) by (I / t) x h. Element-wise bytes (read + write):
/// norms 4 n h x activation bytes / 2, rotary embedding 4 n (a + g) d / t, activation (3 if gated else 2) n I / t x 2,
/// residual add 6 n h, embedding 4 n h (at 2 bytes per element).
/// </remarks>
public static class OperatorCosts
{
    /// <summary>Time of an M x K by K x N matrix product.</summary>
    public static double GemmSeconds(DeviceParameters p, in DeviceRates rates, double m, double n, double k)
    {
        var efficiency = p.GemmPeakEfficiency * (m / (m + p.GemmHalfRows)) * (n / (n + p.GemmHalfColumns)) * (k / (k + p.GemmHalfDepth));
        var compute = 2.0 * m * n * k / (rates.PeakFlopsPerSecond * efficiency);
        var memory = (rates.WeightBytesPerParameter * k * n + rates.ActivationBytes * (m * k + m * n)) / (rates.MemoryBytesPerSecond * p.GemmMemoryEfficiency);
        var q = p.GemmBlendExponent;
        var larger = Math.Max(compute, memory);
        var blended = larger * Math.Pow(Math.Pow(compute / larger, q) + Math.Pow(memory / larger, q), 1.0 / q);
        return p.GemmLaunchSeconds + blended;
    }

    /// <summary>Time of an element-wise kernel moving <paramref name="bytes"/>.</summary>
    public static double ElementwiseSeconds(DeviceParameters p, in DeviceRates rates, double bytes) =>
        p.ElementwiseLaunchSeconds + bytes / (rates.MemoryBytesPerSecond * p.ElementwiseMemoryEfficiency);

    /// <summary>Time of one operator of one layer shard for <paramref name="tokens"/> tokens.</summary>
    public static double Seconds(DeviceParameters p, in DeviceRates rates, LayerOperator op, in LayerShape shape, double tokens, int tensorParallel)
    {
        double h = shape.HiddenSize, d = shape.HeadDimension, t = tensorParallel;
        double heads = shape.HeadCount, kvHeads = shape.KeyValueHeadCount, mlp = shape.IntermediateSize;
        var elementScale = rates.ActivationBytes / 2.0;
        return op switch
        {
            LayerOperator.QkvProjection => GemmSeconds(p, rates, tokens, (heads + 2 * kvHeads) * d / t, h),
            LayerOperator.OutputProjection => GemmSeconds(p, rates, tokens, h, heads * d / t),
            LayerOperator.MlpUp => GemmSeconds(p, rates, tokens, (shape.GatedMlp ? 2 : 1) * mlp / t, h),
            LayerOperator.MlpDown => GemmSeconds(p, rates, tokens, h, mlp / t),
            LayerOperator.InputNorm or LayerOperator.PostAttentionNorm => ElementwiseSeconds(p, rates, 4 * tokens * h * elementScale),
            LayerOperator.Rope => ElementwiseSeconds(p, rates, 4 * tokens * (heads + kvHeads) * d / t * elementScale),
            LayerOperator.MlpActivation => ElementwiseSeconds(p, rates, 2 * tokens * mlp / t * (shape.GatedMlp ? 3 : 2) * elementScale),
            LayerOperator.ResidualAdd => ElementwiseSeconds(p, rates, 6 * tokens * h * elementScale),
            LayerOperator.Embedding => ElementwiseSeconds(p, rates, 4 * tokens * h * elementScale),
            _ => throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown operator."),
        };
    }

    /// <summary>Sum over the per-layer operators (embedding excluded) of one layer shard.</summary>
    /// <param name="p">Device parameters.</param>
    /// <param name="rates">Device rates.</param>
    /// <param name="shape">Layer widths.</param>
    /// <param name="tokens">Tokens in the step.</param>
    /// <param name="tensorParallel">Tensor-parallel degree.</param>
    /// <param name="postAttentionNorm">Whether the layer has a second norm (false for parallel-attention layers).</param>
    public static double LayerSeconds(DeviceParameters p, in DeviceRates rates, in LayerShape shape, double tokens, int tensorParallel, bool postAttentionNorm = true)
    {
        var sum = 0.0;
        for (var op = LayerOperator.InputNorm; op <= LayerOperator.ResidualAdd; op++)
        {
            if (op != LayerOperator.PostAttentionNorm || postAttentionNorm)
            {
                sum += Seconds(p, rates, op, shape, tokens, tensorParallel);
            }
        }

        return sum;
    }
}
