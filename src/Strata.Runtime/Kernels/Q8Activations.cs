using System.Buffers;
using System.Runtime.CompilerServices;
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

            result.Scales[block] = RoundToHalf(amax / 127f);
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
        // The largest lane by halving (a maximum of magnitudes does not depend on the order, NaN included), without a
        // serial scalar chain that reads the lanes back through memory.
        var half = Vector128.Max(amax.GetLower(), amax.GetUpper());
        half = Vector128.Max(half, Vector128.Shuffle(half, Vector128.Create(2, 3, 0, 1)));
        half = Vector128.Max(half, Vector128.Shuffle(half, Vector128.Create(1, 0, 3, 2)));
        var max = half.ToScalar();

        result.Scales[block] = RoundToHalf(max / 127f);
        var id = Vector256.Create(max != 0 ? 127f / max : 0f);
        var q0 = Vector256.ConvertToInt32(Vector256.Round(v0 * id));
        var q1 = Vector256.ConvertToInt32(Vector256.Round(v1 * id));
        var q2 = Vector256.ConvertToInt32(Vector256.Round(v2 * id));
        var q3 = Vector256.ConvertToInt32(Vector256.Round(v3 * id));
        var bytes = Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3));
        bytes.StoreUnsafe(ref result.Values[block * B]);
        result.Sums[block] = Vector256.Sum((q0 + q1) + (q2 + q3));
    }

    /// <summary><c>(float)(Half)x</c>: <paramref name="x"/> rounded to the nearest fp16 value, ties to even.</summary>
    /// <remarks>
    /// Where the result is a normal fp16 value (2^-14 &lt;= |x| &lt; 2^15) this rounds the float's mantissa to 10 bits
    /// in integer arithmetic (a carry out of the mantissa moves the exponent, as it should); elsewhere (zero,
    /// subnormal, overflow, infinity, NaN) it converts through <see cref="Half"/>. The conversion through
    /// <see cref="Half"/> runs as a call per block and, with tiered compilation off (how the CLI ships), in the
    /// runtime's precompiled code: it cost more than the rest of an activation block's quantization.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float RoundToHalf(float x)
    {
        var bits = BitConverter.SingleToUInt32Bits(x);
        var magnitude = bits & 0x7FFF_FFFFu;
        if (magnitude is < 0x3880_0000u or >= 0x4700_0000u)
        {
            return (float)(Half)x;
        }

        var rounded = (magnitude + 0xFFFu + ((magnitude >> 13) & 1u)) & ~0x1FFFu;
        return BitConverter.UInt32BitsToSingle(rounded | (bits & 0x8000_0000u));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        ArrayPool<sbyte>.Shared.Return(Values);
        ArrayPool<float>.Shared.Return(Scales);
        ArrayPool<int>.Shared.Return(Sums);
    }
}
