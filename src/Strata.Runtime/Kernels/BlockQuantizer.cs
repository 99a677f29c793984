using System.Buffers.Binary;

namespace Strata.Runtime.Kernels;

/// <summary>
/// ggml's reference block quantizers and dequantizers (<c>quantize_row_q8_0_ref</c>, <c>quantize_row_q4_0_ref</c>,
/// <c>dequantize_row_*</c>), byte for byte: the blocks written here are the blocks llama.cpp writes.
/// </summary>
public static class BlockQuantizer
{
    private const int B = QuantFormats.BlockValues;

    /// <summary>Quantizes one row of <paramref name="values"/> (a multiple of 32) into blocks of <paramref name="format"/>.</summary>
    /// <exception cref="ArgumentException">The row length is not a multiple of 32 or the destination is too small.</exception>
    public static void QuantizeRow(ReadOnlySpan<float> values, Span<byte> blocks, QuantFormat format)
    {
        CheckRow(values.Length, blocks.Length, format);
        var size = format.BlockBytes();
        for (int b = 0, at = 0; b < values.Length / B; b++, at += size)
        {
            var x = values.Slice(b * B, B);
            var block = blocks.Slice(at, size);
            if (format == QuantFormat.Q8_0)
            {
                QuantizeQ8Block(x, block);
            }
            else
            {
                QuantizeQ4Block(x, block);
            }
        }
    }

    /// <summary>Dequantizes one row of blocks of <paramref name="format"/> into <paramref name="values"/> (a multiple of 32).</summary>
    public static void DequantizeRow(ReadOnlySpan<byte> blocks, Span<float> values, QuantFormat format)
    {
        CheckRow(values.Length, blocks.Length, format);
        var size = format.BlockBytes();
        for (int b = 0, at = 0; b < values.Length / B; b++, at += size)
        {
            var block = blocks.Slice(at, size);
            var d = Scale(block);
            var y = values.Slice(b * B, B);
            if (format == QuantFormat.Q8_0)
            {
                for (var j = 0; j < B; j++)
                {
                    y[j] = (sbyte)block[2 + j] * d;
                }
            }
            else
            {
                for (var j = 0; j < B / 2; j++)
                {
                    y[j] = ((block[2 + j] & 0x0F) - 8) * d;
                    y[j + (B / 2)] = ((block[2 + j] >> 4) - 8) * d;
                }
            }
        }
    }

    /// <summary>The fp16 scale at the start of a block, widened.</summary>
    public static float Scale(ReadOnlySpan<byte> block) => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(block));

    private static void QuantizeQ8Block(ReadOnlySpan<float> x, Span<byte> block)
    {
        var amax = 0f;
        foreach (var v in x)
        {
            amax = MathF.Max(amax, MathF.Abs(v));
        }

        var d = amax / 127f;
        var id = d != 0 ? 1f / d : 0f;
        BinaryPrimitives.WriteUInt16LittleEndian(block, BitConverter.HalfToUInt16Bits((Half)d));
        for (var j = 0; j < B; j++)
        {
            block[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero); // C's roundf
        }
    }

    private static void QuantizeQ4Block(ReadOnlySpan<float> x, Span<byte> block)
    {
        // The value of largest magnitude, sign kept, maps to -8: the scale may be negative.
        float amax = 0f, max = 0f;
        foreach (var v in x)
        {
            if (amax < MathF.Abs(v))
            {
                amax = MathF.Abs(v);
                max = v;
            }
        }

        var d = max / -8f;
        var id = d != 0 ? 1f / d : 0f;
        BinaryPrimitives.WriteUInt16LittleEndian(block, BitConverter.HalfToUInt16Bits((Half)d));
        for (var j = 0; j < B / 2; j++)
        {
            // (int8_t)(x + 8.5f) truncates toward zero, as C's cast does.
            var low = Math.Min(15, (int)(sbyte)(x[j] * id + 8.5f));
            var high = Math.Min(15, (int)(sbyte)(x[j + (B / 2)] * id + 8.5f));
            block[2 + j] = (byte)(low | (high << 4));
        }
    }

    private static void CheckRow(int values, int bytes, QuantFormat format)
    {
        if (values % B != 0)
        {
            throw new ArgumentException($"A {format.Name()} row holds a multiple of {B} values; got {values}.", nameof(values));
        }

        if (bytes < format.RowBytes(values))
        {
            throw new ArgumentException($"{values} values of {format.Name()} need {format.RowBytes(values)} bytes; got {bytes}.", nameof(bytes));
        }
    }
}
