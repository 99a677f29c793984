using System.Buffers;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Strata.Runtime.Kernels;

/// <summary>
/// Input rows quantized to 8 bits in blocks of 32, as ggml quantizes activations for its Q8_0 and Q4_0 products
/// (<c>vec_dot_type = GGML_TYPE_Q8_0</c>): scale <c>d = amax / 127</c> rounded to fp16, <c>q = round(x * 127 / amax)</c>
/// to nearest even (the rounding of ggml's x86 path), so every <c>|q| &lt;= 127</c>.
/// </summary>
/// <remarks>
/// The integer part of every block product is then exact, whatever the vector width: a quantized product's bits
/// depend only on the order in which block sums are added, which is fixed. Buffers come from
/// <see cref="ArrayPool{T}"/> and go back on <see cref="Dispose"/>.
/// </remarks>
internal sealed class Q8Activations : IDisposable
{
    private const int B = QuantFormats.BlockValues;

    private Q8Activations(int rows, int inner)
    {
        Rows = rows;
        Inner = inner;
        Values = ArrayPool<sbyte>.Shared.Rent(Math.Max(1, (rows * inner) + 64));
        Scales = ArrayPool<float>.Shared.Rent(Math.Max(1, rows * (inner / B)));
        Sums = ArrayPool<int>.Shared.Rent(Math.Max(1, rows * (inner / B)));
    }

    /// <summary>Rows quantized.</summary>
    public int Rows { get; }

    /// <summary>Values per row (a multiple of 32).</summary>
    public int Inner { get; }

    /// <summary>The quantized values, <c>(rows, inner)</c>, plus 64 bytes of slack for whole-vector loads.</summary>
    public sbyte[] Values { get; }

    /// <summary>Each block's scale (an fp16 value, widened), <c>(rows, inner / 32)</c>.</summary>
    public float[] Scales { get; }

    /// <summary>Each block's sum of quantized values, <c>(rows, inner / 32)</c>: what a product with biased unsigned weights subtracts.</summary>
    public int[] Sums { get; }

    /// <summary>Quantizes <paramref name="rows"/> rows of <paramref name="inner"/> values.</summary>
    public static Q8Activations Quantize(ReadOnlySpan<float> input, int rows, int inner)
    {
        if (inner % B != 0)
        {
            throw new ArgumentException($"Quantized products need an inner dimension that is a multiple of {B}; got {inner}.", nameof(inner));
        }

        ThrowHelper.CheckLength(input.Length, rows * inner, nameof(input));
        var result = new Q8Activations(rows, inner);
        var blocks = rows * (inner / B);
        for (var block = 0; block < blocks; block++)
        {
            if (Vector256.IsHardwareAccelerated)
            {
                QuantizeBlock256(input.Slice(block * B, B), result, block);
                continue;
            }

            var x = input.Slice(block * B, B);
            var amax = 0f;
            foreach (var v in x)
            {
                amax = MathF.Max(amax, MathF.Abs(v));
            }

            result.Scales[block] = (float)(Half)(amax / 127f);
            var id = amax != 0 ? 127f / amax : 0f;
            var q = result.Values.AsSpan(block * B, B);
            var sum = 0;
            for (var j = 0; j < B; j++)
            {
                q[j] = (sbyte)MathF.Round(x[j] * id, MidpointRounding.ToEven);
                sum += q[j];
            }

            result.Sums[block] = sum;
        }

        return result;
    }

    // One block with 256-bit vectors, the same operations as the scalar loop element by element (so the same bits): the
    // product x * (127 / amax) rounded to nearest even, then narrowed to bytes (every |q| <= 127 fits).
    private static void QuantizeBlock256(ReadOnlySpan<float> x, Q8Activations result, int block)
    {
        ref var start = ref MemoryMarshal.GetReference(x);
        var v0 = Vector256.LoadUnsafe(ref start, 0);
        var v1 = Vector256.LoadUnsafe(ref start, 8);
        var v2 = Vector256.LoadUnsafe(ref start, 16);
        var v3 = Vector256.LoadUnsafe(ref start, 24);
        var amax = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
        var max = 0f;
        for (var i = 0; i < Vector256<float>.Count; i++)
        {
            max = MathF.Max(max, amax[i]);
        }

        result.Scales[block] = (float)(Half)(max / 127f);
        var id = Vector256.Create(max != 0 ? 127f / max : 0f);
        var q0 = Vector256.ConvertToInt32(Vector256.Round(v0 * id));
        var q1 = Vector256.ConvertToInt32(Vector256.Round(v1 * id));
        var q2 = Vector256.ConvertToInt32(Vector256.Round(v2 * id));
        var q3 = Vector256.ConvertToInt32(Vector256.Round(v3 * id));
        var bytes = Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3));
        bytes.StoreUnsafe(ref result.Values[block * B]);
        result.Sums[block] = Vector256.Sum((q0 + q1) + (q2 + q3));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        ArrayPool<sbyte>.Shared.Return(Values);
        ArrayPool<float>.Shared.Return(Scales);
        ArrayPool<int>.Shared.Return(Sums);
    }
}
