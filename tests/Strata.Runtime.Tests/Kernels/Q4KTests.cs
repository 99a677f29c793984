using System.Buffers.Binary;
using Strata.Runtime.Kernels;

namespace Strata.Runtime.Tests.Kernels;

public sealed class Q4KTests
{
    [Fact]
    public void A_hand_packed_super_block_dequantizes_with_the_6_bit_scales_and_mins_of_get_scale_min_k4()
    {
        // d = 0.5, dmin = 0.25; scale_j = 10 + 7 j and min_j = 60 - 7 j (so sub-blocks 4-7 use the high 2 bits);
        // nibble l of each sub-block is l mod 16. Packed from the layout as written in ggml-common.h.
        var block = new byte[Q4KBlocks.BlockBytes];
        BinaryPrimitives.WriteUInt16LittleEndian(block, BitConverter.HalfToUInt16Bits((Half)0.5f));
        BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(2), BitConverter.HalfToUInt16Bits((Half)0.25f));
        int Scale(int j) => 10 + (7 * j);
        int Min(int j) => 60 - (7 * j);
        for (var j = 0; j < 8; j++)
        {
            if (j < 4)
            {
                block[4 + j] = (byte)Scale(j);
                block[4 + j + 4] = (byte)Min(j);
            }
            else
            {
                block[4 + j + 4] = (byte)((Scale(j) & 0xF) | ((Min(j) & 0xF) << 4));
                block[4 + j - 4] |= (byte)((Scale(j) >> 4) << 6);
                block[4 + j] |= (byte)((Min(j) >> 4) << 6);
            }
        }

        for (var c = 0; c < 4; c++)
        {
            for (var l = 0; l < 32; l++)
            {
                block[16 + (c * 32) + l] = (byte)((l % 16) | (((l + 3) % 16) << 4));
            }
        }

        for (var j = 0; j < 8; j++)
        {
            Assert.Equal(((byte)Scale(j), (byte)Min(j)), Q4KBlocks.ScaleMin(j, block.AsSpan(4, 12)));
        }

        var values = new float[256];
        Q4KBlocks.DequantizeRow(block, values);
        for (var i = 0; i < 256; i++)
        {
            var (j, l) = (i / 32, i % 32);
            var q = j % 2 == 0 ? l % 16 : (l + 3) % 16;
            Assert.Equal((0.5f * Scale(j) * q) - (0.25f * Min(j)), values[i]);
        }
    }

    [Fact]
    public void Quantized_values_come_back_within_one_step_of_their_sub_block()
    {
        // make_qkx2_quants fits scale and min by weighted least squares, so the extremes of a sub-block may be clamped
        // past the last level: each value is within one step d * scale_j, plus the error of the 6-bit scale and min
        // (at most half a step of d and of dmin, times the largest level 15 and once) and their fp16 rounding.
        var x = TestData.Random(256 * 24, 5, 3f);
        for (var i = 0; i < 256; i++)
        {
            x[i] += 2f; // one super-block away from zero: mins at work
        }

        var blocks = new byte[Q4KBlocks.RowBytes(x.Length)];
        Q4KBlocks.QuantizeRow(x, blocks);
        var back = new float[x.Length];
        Q4KBlocks.DequantizeRow(blocks, back);
        var worstShare = 0.0;
        for (var b = 0; b < x.Length / 256; b++)
        {
            var block = blocks.AsSpan(b * Q4KBlocks.BlockBytes, Q4KBlocks.BlockBytes);
            var d = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(block));
            var dmin = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(block[2..]));
            for (var j = 0; j < 8; j++)
            {
                var (sc, _) = Q4KBlocks.ScaleMin(j, block.Slice(4, 12));
                var bound = (d * sc) + (d * 0.5 * 15) + (dmin * 0.5) + 2e-3 * 3;
                for (var l = 0; l < 32; l++)
                {
                    var i = (b * 256) + (j * 32) + l;
                    var error = Math.Abs(x[i] - back[i]);
                    Assert.True(error <= bound, $"super-block {b} sub-block {j} value {l}: {x[i]} came back as {back[i]} (bound {bound}).");
                    worstShare = Math.Max(worstShare, error / bound);
                }
            }
        }

        Assert.True(worstShare > 0.05, $"The largest error is {worstShare:P1} of its bound: the bound is vacuous.");
    }

    [Fact]
    public void A_constant_or_zero_row_quantizes_without_dividing_by_zero()
    {
        var zero = new float[256];
        var blocks = new byte[Q4KBlocks.BlockBytes];
        Q4KBlocks.QuantizeRow(zero, blocks);
        var back = new float[256];
        Q4KBlocks.DequantizeRow(blocks, back);
        Assert.Equal(zero, back);

        var weight = Q4KMatrix.Quantize(TestData.Random(3 * 256, 1), 3, 256);
        var output = new float[2 * 3];
        MatMul.MultiplyTransposed(new float[2 * 256], weight, output, 2);
        Assert.Equal(new float[6], output);
    }

    [Fact]
    public void Products_equal_a_double_oracle_and_the_same_bits_on_every_path_thread_count_and_batch()
    {
        var cases = 0;
        foreach (var inner in new[] { 256, 512, 1280 })
        {
            foreach (var columns in new[] { 1, 7, 64, 65, 130 })
            {
                foreach (var rows in new[] { 1, 3, 4, 9 })
                {
                    var seed = (ulong)((inner * 1000) + (columns * 10) + rows);
                    var weight = Q4KMatrix.Quantize(TestData.Random(columns * inner, seed), columns, inner);
                    var input = TestData.Random(rows * inner, seed + 1, 2f);
                    var expected = Oracle(weight, input, rows);
                    BlockKernelChecks.AssertAgrees(weight, input, rows, expected, "q4_k");
                    cases++;
                }
            }
        }

        Assert.Equal(3 * 5 * 4, cases);
    }

    [Fact]
    public void A_product_is_close_to_the_fp32_product_of_the_unquantized_weight()
    {
        const int Inner = 1024, Columns = 96, Rows = 3;
        var raw = TestData.Random(Columns * Inner, 3);
        var input = TestData.Random(Rows * Inner, 4);
        var exact = new float[Rows * Columns];
        MatMul.MultiplyTransposed(input, PackedMatrix.Pack(raw, Columns, Inner), exact, Rows);
        var q4k = new float[Rows * Columns];
        MatMul.MultiplyTransposed(input, Q4KMatrix.Quantize(raw, Columns, Inner), q4k, Rows);

        // Uniform weights in [-1, 1): a 4-bit step of about 2/15 gives errors of about 0.04 per weight; over 1,024
        // terms with |x| about 0.5 the sum's error is about sqrt(1024) * 0.5 * 0.04 = 0.6, against products of about 10.
        var rms = Math.Sqrt(exact.Zip(q4k, (e, a) => (e - a) * (double)(e - a)).Average());
        var scale = Math.Sqrt(exact.Average(e => e * (double)e));
        Assert.True(rms < 0.1 * scale, $"q4_k product error {rms:G3} (rms) against products of {scale:G3} (rms).");
        Assert.True(rms > 0, "The q4_k product equals the fp32 one exactly: nothing was quantized.");
    }

    private static double[] Oracle(Q4KMatrix weight, float[] input, int rows) =>
        BlockKernelChecks.Oracle(weight, input, rows, 256, (x, xq) =>
        {
            // quantize_row_q8_K_ref, written out: the value of largest magnitude maps to -127.
            float max = 0, amax = 0;
            foreach (var v in x)
            {
                if (Math.Abs(v) > amax)
                {
                    amax = Math.Abs(v);
                    max = v;
                }
            }

            var iscale = amax == 0 ? 0 : -127f / max;
            var dx = amax == 0 ? 0 : 1 / iscale;
            for (var j = 0; j < x.Length; j++)
            {
                xq[j] = Math.Min(127, Math.Round(iscale * x[j], MidpointRounding.ToEven)) * (double)dx;
            }
        });
}
