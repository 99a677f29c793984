using System.Buffers;

namespace Strata.Runtime.Kernels;

/// <summary>
/// Input rows quantized as ggml quantizes activations for its k-quant products (<c>block_q8_K</c>,
/// <c>quantize_row_q8_K_ref</c>): per 256 values a float scale <c>d = max / -127</c> (the value of largest
/// magnitude, sign kept, maps to -127) and codes <c>q = nearest_int(x * -127 / max)</c>, capped at 127; plus the
/// sum of the codes of every 32-value sub-block.
/// </summary>
/// <remarks>
/// Every code has <c>|q| &lt;= 127</c>, so the integer part of each super-block product is exact on every path and
/// a product's bits depend only on the (fixed) order in which super-block sums are added. Buffers come from
/// <see cref="ArrayPool{T}"/> and go back on <see cref="Dispose"/>.
/// </remarks>
internal sealed class Q8KActivations : IDisposable
{
    private const int B = Q4KBlocks.SuperBlockValues;
    private const int S = Q4KBlocks.SubBlockValues;

    private Q8KActivations(int rows, int inner)
    {
        Rows = rows;
        Inner = inner;
        Values = ArrayPool<sbyte>.Shared.Rent(Math.Max(1, (rows * inner) + 64));
        Scales = ArrayPool<float>.Shared.Rent(Math.Max(1, rows * (inner / B)));
        SubBlockSums = ArrayPool<int>.Shared.Rent(Math.Max(1, rows * (inner / S)));
    }

    /// <summary>Rows quantized.</summary>
    public int Rows { get; }

    /// <summary>Values per row (a multiple of 256).</summary>
    public int Inner { get; }

    /// <summary>The codes, <c>(rows, inner)</c>, plus 64 bytes of slack for whole-vector loads.</summary>
    public sbyte[] Values { get; }

    /// <summary>Each super-block's scale, <c>(rows, inner / 256)</c>.</summary>
    public float[] Scales { get; }

    /// <summary>The sum of the codes of each 32-value sub-block, <c>(rows, inner / 32)</c>.</summary>
    public int[] SubBlockSums { get; }

    /// <summary>Quantizes <paramref name="rows"/> rows of <paramref name="inner"/> values.</summary>
    public static Q8KActivations Quantize(ReadOnlySpan<float> input, int rows, int inner)
    {
        if (inner % B != 0)
        {
            throw new ArgumentException($"Q4_K products need an inner dimension that is a multiple of {B}; got {inner}.", nameof(inner));
        }

        ThrowHelper.CheckLength(input.Length, rows * inner, nameof(input));
        var result = new Q8KActivations(rows, inner);
        var blocks = rows * (inner / B);
        for (var block = 0; block < blocks; block++)
        {
            var x = input.Slice(block * B, B);
            var q = result.Values.AsSpan(block * B, B);
            float max = 0, amax = 0;
            foreach (var v in x)
            {
                if (MathF.Abs(v) > amax)
                {
                    amax = MathF.Abs(v);
                    max = v;
                }
            }

            if (amax == 0)
            {
                result.Scales[block] = 0;
                q.Clear();
            }
            else
            {
                var iscale = -127f / max;
                for (var j = 0; j < B; j++)
                {
                    q[j] = (sbyte)Math.Min(127, Q4KBlocks.NearestInt(iscale * x[j]));
                }

                result.Scales[block] = 1 / iscale;
            }

            for (var s = 0; s < B / S; s++)
            {
                var sum = 0;
                foreach (var v in q.Slice(s * S, S))
                {
                    sum += v;
                }

                result.SubBlockSums[(block * (B / S)) + s] = sum;
            }
        }

        return result;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        ArrayPool<sbyte>.Shared.Return(Values);
        ArrayPool<float>.Shared.Return(Scales);
        ArrayPool<int>.Shared.Return(SubBlockSums);
    }
}
