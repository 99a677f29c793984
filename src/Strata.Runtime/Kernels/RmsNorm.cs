using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Strata.Runtime.Kernels;

/// <summary>Root-mean-square normalisation, Llama's <c>LlamaRMSNorm</c>: <c>y = x / sqrt(mean(x^2) + eps) * w</c>.</summary>
public static class RmsNorm
{
    /// <summary>Normalises each row of <paramref name="input"/> into <paramref name="output"/> (which may be the same buffer).</summary>
    /// <param name="input">Rows, <c>(rows, width)</c>.</param>
    /// <param name="weight">Per-channel gain, <c>(width)</c>.</param>
    /// <param name="output">Rows, <c>(rows, width)</c>.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="epsilon">Added to the mean square before the square root (<c>rms_norm_eps</c>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, Span<float> output, int rows, float epsilon)
    {
        var width = weight.Length;
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ThrowHelper.CheckLength(input.Length, rows * width, nameof(input));
        ThrowHelper.CheckLength(output.Length, rows * width, nameof(output));
        for (var row = 0; row < rows; row++)
        {
            var x = input.Slice(row * width, width);
            var y = output.Slice(row * width, width);
            var meanSquare = width == 0 ? 0f : TensorPrimitives.SumOfSquares(x) / width;
            var scale = 1f / MathF.Sqrt(meanSquare + epsilon);
            TensorPrimitives.Multiply(x, scale, y);
            TensorPrimitives.Multiply(y, weight, y);
        }
    }
}
