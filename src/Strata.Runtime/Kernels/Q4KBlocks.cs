using System.Buffers.Binary;

namespace Strata.Runtime.Kernels;

/// <summary>
/// ggml's <c>block_q4_K</c> (a "k-quant"): super-blocks of 256 values in 8 sub-blocks of 32, each sub-block with
/// its own 6-bit scale and 6-bit minimum; value = <c>d * scale_j * q - dmin * min_j</c>, <c>q</c> in 0..15.
/// </summary>
/// <remarks>
/// Layout of one super-block (144 bytes, 4.5 bits per weight): fp16 <c>d</c>, fp16 <c>dmin</c>, 12 bytes of packed
/// scales and mins, 128 bytes of nibbles. Scales and mins of sub-blocks 0-3 are the low 6 bits of bytes 0-3 and
/// 4-7; those of sub-blocks 4-7 keep their low 4 bits in the nibbles of bytes 8-11 and their high 2 bits in the
/// top 2 bits of bytes 0-3 (scales) and 4-7 (mins) (ggml's <c>get_scale_min_k4</c>). Nibble byte <c>32 c + l</c>
/// holds value <c>64 c + l</c> low and <c>64 c + 32 + l</c> high. The quantizer is a port of
/// <c>quantize_row_q4_K_ref</c> and <c>make_qkx2_quants</c> operation for operation, so its bytes are llama.cpp's.
/// </remarks>
public static class Q4KBlocks
{
    /// <summary>Values per super-block (ggml's <c>QK_K</c>).</summary>
    public const int SuperBlockValues = 256;

    /// <summary>Values per sub-block: each has its own scale and minimum.</summary>
    public const int SubBlockValues = 32;

    /// <summary>Sub-blocks per super-block.</summary>
    public const int SubBlocks = SuperBlockValues / SubBlockValues;

    /// <summary>Bytes of one super-block: <c>d</c>, <c>dmin</c>, 12 bytes of scales, 128 of nibbles.</summary>
    public const int BlockBytes = 2 + 2 + ScaleBytes + (SuperBlockValues / 2);

    /// <summary>Offset of the packed scales and mins in a super-block.</summary>
    internal const int ScalesOffset = 4;

    /// <summary>Offset of the nibbles in a super-block.</summary>
    internal const int QuantsOffset = ScalesOffset + ScaleBytes;

    private const int ScaleBytes = 12;

    /// <summary>Bytes of one row of <paramref name="inner"/> values (a multiple of 256).</summary>
    public static long RowBytes(int inner) => (long)(inner / SuperBlockValues) * BlockBytes;

    /// <summary>Quantizes one row of <paramref name="values"/> (a multiple of 256) into super-blocks, byte for byte as llama.cpp's <c>quantize_row_q4_K_ref</c>.</summary>
    /// <exception cref="ArgumentException">The row length is not a multiple of 256 or the destination is too small.</exception>
    public static void QuantizeRow(ReadOnlySpan<float> values, Span<byte> blocks)
    {
        CheckRow(values.Length, blocks.Length);
        Span<byte> levels = stackalloc byte[SuperBlockValues];
        Span<byte> scratch = stackalloc byte[SubBlockValues];
        Span<float> weights = stackalloc float[SubBlockValues];
        Span<float> mins = stackalloc float[SubBlocks];
        Span<float> scales = stackalloc float[SubBlocks];
        for (var b = 0; b < values.Length / SuperBlockValues; b++)
        {
            var x = values.Slice(b * SuperBlockValues, SuperBlockValues);
            var block = blocks.Slice(b * BlockBytes, BlockBytes);
            float maxScale = 0, maxMin = 0;
            for (var j = 0; j < SubBlocks; j++)
            {
                var xs = x.Slice(j * SubBlockValues, SubBlockValues);
                var sumX2 = 0f;
                for (var l = 0; l < SubBlockValues; l++)
                {
                    sumX2 += xs[l] * xs[l];
                }

                var averageX = MathF.Sqrt(sumX2 / SubBlockValues);
                for (var l = 0; l < SubBlockValues; l++)
                {
                    weights[l] = averageX + MathF.Abs(xs[l]);
                }

                scales[j] = MakeQkx2Quants(15, xs, weights, levels.Slice(j * SubBlockValues, SubBlockValues), out mins[j], scratch, -1f, 0.1f, 20);
                maxScale = scales[j] > maxScale ? scales[j] : maxScale;
                maxMin = mins[j] > maxMin ? mins[j] : maxMin;
            }

            var inverseScale = maxScale > 0 ? 63f / maxScale : 0f;
            var inverseMin = maxMin > 0 ? 63f / maxMin : 0f;
            var packed = block.Slice(ScalesOffset, ScaleBytes);
            packed.Clear();
            for (var j = 0; j < SubBlocks; j++)
            {
                // uint8_t ls = nearest_int(...): C's conversion to uint8_t keeps the low 8 bits.
                var ls = Math.Min((byte)63, (byte)NearestInt(inverseScale * scales[j]));
                var lm = Math.Min((byte)63, (byte)NearestInt(inverseMin * mins[j]));
                if (j < 4)
                {
                    packed[j] = ls;
                    packed[j + 4] = lm;
                }
                else
                {
                    packed[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                    packed[j - 4] |= (byte)((ls >> 4) << 6);
                    packed[j] |= (byte)((lm >> 4) << 6);
                }
            }

            var d = (Half)(maxScale / 63f);
            var dmin = (Half)(maxMin / 63f);
            BinaryPrimitives.WriteUInt16LittleEndian(block, BitConverter.HalfToUInt16Bits(d));
            BinaryPrimitives.WriteUInt16LittleEndian(block[2..], BitConverter.HalfToUInt16Bits(dmin));
            for (var j = 0; j < SubBlocks; j++)
            {
                var (sc, m) = ScaleMin(j, packed);
                var dj = (float)d * sc;
                if (dj == 0)
                {
                    continue; // llama.cpp keeps make_qkx2_quants' levels for this sub-block.
                }

                var dm = (float)dmin * m;
                for (var l = 0; l < SubBlockValues; l++)
                {
                    var level = NearestInt((x[(j * SubBlockValues) + l] + dm) / dj);
                    levels[(j * SubBlockValues) + l] = (byte)Math.Max(0, Math.Min(15, level));
                }
            }

            var quants = block[QuantsOffset..];
            for (var c = 0; c < SuperBlockValues / 64; c++)
            {
                for (var l = 0; l < 32; l++)
                {
                    quants[(c * 32) + l] = (byte)(levels[(c * 64) + l] | (levels[(c * 64) + 32 + l] << 4));
                }
            }
        }
    }

    /// <summary>Dequantizes one row of super-blocks into <paramref name="values"/> (a multiple of 256), as llama.cpp's <c>dequantize_row_q4_K</c>.</summary>
    public static void DequantizeRow(ReadOnlySpan<byte> blocks, Span<float> values)
    {
        CheckRow(values.Length, blocks.Length);
        for (var b = 0; b < values.Length / SuperBlockValues; b++)
        {
            var block = blocks.Slice(b * BlockBytes, BlockBytes);
            var d = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(block));
            var dmin = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(block[2..]));
            var packed = block.Slice(ScalesOffset, ScaleBytes);
            var quants = block[QuantsOffset..];
            var y = values.Slice(b * SuperBlockValues, SuperBlockValues);
            for (var c = 0; c < SuperBlockValues / 64; c++)
            {
                var (sc1, m1) = ScaleMin(2 * c, packed);
                var (sc2, m2) = ScaleMin((2 * c) + 1, packed);
                float d1 = d * sc1, min1 = dmin * m1, d2 = d * sc2, min2 = dmin * m2;
                for (var l = 0; l < 32; l++)
                {
                    var q = quants[(c * 32) + l];
                    y[(c * 64) + l] = (d1 * (q & 0xF)) - min1;
                    y[(c * 64) + 32 + l] = (d2 * (q >> 4)) - min2;
                }
            }
        }
    }

    /// <summary>The 6-bit scale and minimum of sub-block <paramref name="j"/> from the 12 packed bytes (ggml's <c>get_scale_min_k4</c>).</summary>
    public static (byte Scale, byte Min) ScaleMin(int j, ReadOnlySpan<byte> packed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(j);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(j, SubBlocks);
        return j < 4
            ? ((byte)(packed[j] & 63), (byte)(packed[j + 4] & 63))
            : ((byte)((packed[j + 4] & 0xF) | ((packed[j - 4] >> 6) << 4)), (byte)((packed[j + 4] >> 4) | ((packed[j] >> 6) << 4)));
    }

    /// <summary>ggml's <c>nearest_int</c>: rounds to nearest, ties to even, by the 1.5 * 2^23 trick (valid for |x| &lt; 2^22).</summary>
    internal static int NearestInt(float value)
    {
        var shifted = value + 12582912f;
        return (BitConverter.SingleToInt32Bits(shifted) & 0x007FFFFF) - 0x00400000;
    }

    // make_qkx2_quants(n = 32, nmax, x, weights, L, &the_min, Laux, rmin, rdelta, nstep, use_mad = false), each
    // float operation in C's order (no contraction into fused multiply-adds, as ggml-base is built).
    private static float MakeQkx2Quants(int nmax, ReadOnlySpan<float> x, ReadOnlySpan<float> weights, Span<byte> levels, out float theMin, Span<byte> scratch, float rmin, float rdelta, int steps)
    {
        var n = x.Length;
        float min = x[0], max = x[0];
        var sumW = weights[0];
        var sumX = sumW * x[0];
        for (var i = 1; i < n; i++)
        {
            if (x[i] < min)
            {
                min = x[i];
            }

            if (x[i] > max)
            {
                max = x[i];
            }

            var w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }

        if (min > 0)
        {
            min = 0;
        }

        if (max == min)
        {
            levels.Clear();
            theMin = -min;
            return 0f;
        }

        var iscale = nmax / (max - min);
        var scale = 1 / iscale;
        var bestMad = 0f;
        for (var i = 0; i < n; i++)
        {
            var l = NearestInt(iscale * (x[i] - min));
            levels[i] = (byte)Math.Max(0, Math.Min(nmax, l));
            var diff = (scale * levels[i]) + min - x[i];
            diff *= diff;
            bestMad += weights[i] * diff;
        }

        for (var step = 0; step <= steps; step++)
        {
            iscale = (rmin + (rdelta * step) + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (var i = 0; i < n; i++)
            {
                var l = NearestInt(iscale * (x[i] - min));
                l = Math.Max(0, Math.Min(nmax, l));
                scratch[i] = (byte)l;
                var w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[i];
            }

            var determinant = (sumW * sumL2) - (sumL * sumL);
            if (determinant > 0)
            {
                var thisScale = ((sumW * sumXL) - (sumX * sumL)) / determinant;
                var thisMin = ((sumL2 * sumX) - (sumL * sumXL)) / determinant;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }

                var mad = 0f;
                for (var i = 0; i < n; i++)
                {
                    var diff = (thisScale * scratch[i]) + thisMin - x[i];
                    diff *= diff;
                    mad += weights[i] * diff;
                }

                if (mad < bestMad)
                {
                    scratch[..n].CopyTo(levels);
                    bestMad = mad;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }

        theMin = -min;
        return scale;
    }

    private static void CheckRow(int values, int bytes)
    {
        if (values % SuperBlockValues != 0)
        {
            throw new ArgumentException($"A q4_k row holds a multiple of {SuperBlockValues} values; got {values}.", nameof(values));
        }

        if (bytes < RowBytes(values))
        {
            throw new ArgumentException($"{values} values of q4_k need {RowBytes(values)} bytes; got {bytes}.", nameof(bytes));
        }
    }
}
