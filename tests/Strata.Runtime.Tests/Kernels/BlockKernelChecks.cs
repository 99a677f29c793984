using Strata.Runtime.Kernels;

namespace Strata.Runtime.Tests.Kernels;

/// <summary>What every block-format kernel must give: the oracle's values on the scalar path, and the scalar path's bits on every SIMD path, thread count and batch.</summary>
internal static class BlockKernelChecks
{
    /// <summary>The integer paths this machine runs (scalar always).</summary>
    public static KernelIsa[] Paths { get; } = [.. new[] { KernelIsa.Scalar, KernelIsa.Vector256, KernelIsa.Vector512, KernelIsa.Vnni256 }.Where(KernelIsas.IntegerSupports)];

    /// <summary>
    /// Checks the product of <paramref name="input"/> (<c>rows x weight.Inner</c>) by <paramref name="weight"/>: the
    /// scalar path within 1e-5 relative of <paramref name="expected"/> (an independent oracle), and every path, thread
    /// count (1, 2, 4) and single row alone bit-identical to the scalar path.
    /// </summary>
    public static void AssertAgrees(LinearWeight weight, float[] input, int rows, double[] expected, string label)
    {
        var inner = weight.Inner;
        var columns = weight.Columns;
        var reference = new float[rows * columns];
        MatMul.MultiplyTransposed(input, weight, reference, rows, KernelIsa.Scalar);
        for (var i = 0; i < reference.Length; i++)
        {
            Assert.True(Math.Abs(reference[i] - expected[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"{label} {rows}x{inner}x{columns} element {i}: {reference[i]} vs oracle {expected[i]}.");
        }

        foreach (var path in Paths)
        {
            var output = new float[rows * columns];
            MatMul.MultiplyTransposed(input, weight, output, rows, path);
            Assert.Equal(reference, output);
        }

        foreach (var threads in new[] { 1, 2, 4 })
        {
            var parallel = new float[rows * columns];
            MatMul.MultiplyTransposed(input, rows, threads, (weight, parallel));
            Assert.Equal(reference, parallel);
        }

        for (var row = 0; row < rows; row++)
        {
            var alone = new float[columns];
            MatMul.MultiplyTransposed(input.AsSpan(row * inner, inner), weight, alone, 1);
            Assert.Equal(reference.AsSpan(row * columns, columns).ToArray(), alone);
        }
    }

    /// <summary>
    /// The product in double of each input row with the weight's dequantized rows, the input quantized block by block
    /// by <paramref name="quantizeBlock"/> (an independent writing-out of the format's activation quantizer: it fills
    /// each value's code times the block's scale).
    /// </summary>
    public static double[] Oracle(LinearWeight weight, float[] input, int rows, int blockValues, QuantizeBlock quantizeBlock)
    {
        var inner = weight.Inner;
        var result = new double[rows * weight.Columns];
        var w = new float[inner];
        var xq = new double[blockValues];
        for (var column = 0; column < weight.Columns; column++)
        {
            weight.CopyRow(column, w);
            for (var row = 0; row < rows; row++)
            {
                var sum = 0.0;
                for (var b = 0; b < inner / blockValues; b++)
                {
                    quantizeBlock(input.AsSpan((row * inner) + (b * blockValues), blockValues), xq);
                    for (var j = 0; j < blockValues; j++)
                    {
                        sum += w[(b * blockValues) + j] * xq[j];
                    }
                }

                result[(row * weight.Columns) + column] = sum;
            }
        }

        return result;
    }

    /// <summary>Quantizes one block of input values and writes each back as code times scale.</summary>
    public delegate void QuantizeBlock(ReadOnlySpan<float> block, Span<double> dequantized);
}
