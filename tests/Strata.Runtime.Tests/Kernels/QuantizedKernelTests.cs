using Strata.Runtime.Kernels;

namespace Strata.Runtime.Tests.Kernels;

public sealed class QuantizedKernelTests
{
    public static TheoryData<QuantFormat> Formats => [QuantFormat.Q8_0, QuantFormat.Q4_0];

    [Fact]
    public void Q8_0_blocks_match_a_hand_computed_block()
    {
        // x_j = j - 16: amax 16, d = 16 / 127, q_j = round((j - 16) * 127 / 16) with halves away from zero (C's roundf).
        var x = Enumerable.Range(0, 32).Select(j => (float)(j - 16)).ToArray();
        var block = new byte[34];
        BlockQuantizer.QuantizeRow(x, block, QuantFormat.Q8_0);
        Assert.Equal(BitConverter.HalfToUInt16Bits((Half)(16f / 127f)), BitConverter.ToUInt16(block, 0));
        for (var j = 0; j < 32; j++)
        {
            Assert.Equal((int)Math.Round((j - 16) * 127.0 / 16.0, MidpointRounding.AwayFromZero), (sbyte)block[2 + j]);
        }

        Assert.Equal(-127, (sbyte)block[2]);
    }

    [Fact]
    public void Q4_0_blocks_match_a_hand_computed_block()
    {
        // x_j = (j mod 16 - 8) / 2: the largest magnitude is -4, so d = -4 / -8 = 0.5 and nibble = x / d + 8 = j mod 16.
        var x = Enumerable.Range(0, 32).Select(j => ((j % 16) - 8) / 2f).ToArray();
        var block = new byte[18];
        BlockQuantizer.QuantizeRow(x, block, QuantFormat.Q4_0);
        Assert.Equal(BitConverter.HalfToUInt16Bits((Half)0.5f), BitConverter.ToUInt16(block, 0));
        for (var j = 0; j < 16; j++)
        {
            Assert.Equal((byte)(j | (j << 4)), block[2 + j]);
        }

        var back = new float[32];
        BlockQuantizer.DequantizeRow(block, back, QuantFormat.Q4_0);
        Assert.Equal(x, back);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Dequantized_values_are_within_half_a_step_of_the_input(QuantFormat format)
    {
        var x = TestData.Random(32 * 40, 11, 3f);
        var blocks = new byte[format.RowBytes(x.Length)];
        BlockQuantizer.QuantizeRow(x, blocks, format);
        var back = new float[x.Length];
        BlockQuantizer.DequantizeRow(blocks, back, format);
        for (var b = 0; b < 40; b++)
        {
            var step = Math.Abs(BlockQuantizer.Scale(blocks.AsSpan(b * format.BlockBytes())));
            for (var j = 0; j < 32; j++)
            {
                var i = (b * 32) + j;
                // Half a step, plus the fp16 rounding of the scale times the largest code, plus Q4's clamp at +7.
                var bound = (step * 0.5) + (Math.Abs(x[i]) * 1e-3) + (format == QuantFormat.Q4_0 ? step : 0);
                Assert.True(Math.Abs(x[i] - back[i]) <= bound, $"{format} block {b} value {j}: {x[i]} came back as {back[i]} (step {step}).");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Products_equal_a_double_oracle_and_the_same_bits_on_every_path_thread_count_and_batch(QuantFormat format)
    {
        var paths = BlockKernelChecks.Paths;
        Assert.Contains(KernelIsa.Scalar, paths);
        var cases = 0;
        foreach (var inner in new[] { 32, 64, 96, 160, 256, 800 })
        {
            foreach (var columns in new[] { 1, 7, 64, 65, 130 })
            {
                foreach (var rows in new[] { 1, 3, 4, 9 })
                {
                    var seed = (ulong)((inner * 1000) + (columns * 10) + rows);
                    var weight = QuantizedMatrix.Quantize(TestData.Random(columns * inner, seed), columns, inner, format);
                    var input = TestData.Random(rows * inner, seed + 1, 2f);
                    var expected = Oracle(weight, input, rows);
                    BlockKernelChecks.AssertAgrees(weight, input, rows, expected, format.ToString());
                    cases++;
                }
            }
        }

        Assert.Equal(6 * 5 * 4, cases);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Interleaved_panels_give_back_every_row_s_ggml_blocks_byte_for_byte(QuantFormat format)
    {
        // 13 columns: one whole tile of eight and a padded one. Every byte value occurs, -128 in Q8_0 included.
        const int Columns = 13, Inner = 96;
        var rowBytes = (int)format.RowBytes(Inner);
        var blocks = new byte[Columns * rowBytes];
        new Random(5).NextBytes(blocks);
        for (var i = 0; i < blocks.Length; i += format.BlockBytes())
        {
            BitConverter.TryWriteBytes(blocks.AsSpan(i, 2), BitConverter.HalfToUInt16Bits((Half)(0.01f * (1 + (i % 7)))));
        }

        var matrix = QuantizedMatrix.FromBlocks(format, Columns, Inner, (first, count, buffer) => blocks.AsSpan(first * rowBytes, count * rowBytes).CopyTo(buffer));
        var row = new byte[rowBytes];
        for (var column = 0; column < Columns; column++)
        {
            matrix.CopyRowBlocks(column, row);
            Assert.Equal(blocks.AsSpan(column * rowBytes, rowBytes).ToArray(), row);
        }

        var values = new float[Inner];
        matrix.CopyRow(12, values);
        var expected = new float[Inner];
        BlockQuantizer.DequantizeRow(blocks.AsSpan(12 * rowBytes, rowBytes), expected, format);
        Assert.Equal(expected, values);
        Assert.Equal(expected[37], matrix[12, 37]);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Extreme_codes_and_inputs_give_exact_sums_on_every_path(QuantFormat format)
    {
        // The largest products each path must hold without saturating: Q8_0 codes -128 and 127 (a GGUF file may hold
        // -128, ggml's quantizer never writes it) and Q4_0 nibbles 0 and 15, against inputs quantized to -127 and 127.
        const int Columns = 9, Inner = 64, Rows = 2;
        var rowBytes = (int)format.RowBytes(Inner);
        var blocks = new byte[Columns * rowBytes];
        for (var column = 0; column < Columns; column++)
        {
            for (var b = 0; b < Inner / 32; b++)
            {
                var block = blocks.AsSpan((column * rowBytes) + (b * format.BlockBytes()), format.BlockBytes());
                BitConverter.TryWriteBytes(block, BitConverter.HalfToUInt16Bits((Half)0.5f));
                block[2..].Fill(format == QuantFormat.Q8_0 ? (byte)(column % 2 == 0 ? 0x80 : 0x7F) : (byte)(column % 2 == 0 ? 0x00 : 0xFF));
            }
        }

        var matrix = QuantizedMatrix.FromBlocks(format, Columns, Inner, (first, count, buffer) => blocks.AsSpan(first * rowBytes, count * rowBytes).CopyTo(buffer));
        var input = Enumerable.Range(0, Rows * Inner).Select(i => i < Inner ? 3f : -3f).ToArray();
        BlockKernelChecks.AssertAgrees(matrix, input, Rows, Oracle(matrix, input, Rows), format.ToString());
        var output = new float[Rows * Columns];
        MatMul.MultiplyTransposed(input, matrix, output, Rows);
        var code = format == QuantFormat.Q8_0 ? -128 : -8;
        var dx = (float)(Half)(3f / 127f);
        Assert.Equal(Inner * code * 127 * 0.5 * dx, output[0], 1e-3);
    }

    [Fact]
    public void Activations_quantize_as_ggml_does_with_ties_to_even_and_keep_each_block_sum()
    {
        // Random rows, a zero block, and a block whose products x * 127 / amax land on halves (amax 127: x = k + 0.5).
        const int Inner = 96, Rows = 3;
        var input = TestData.Random(Rows * Inner, 21, 4f);
        input.AsSpan(32, 32).Clear();
        for (var j = 0; j < 32; j++)
        {
            input[64 + j] = j == 0 ? 127f : (j % 2 == 0 ? 1 : -1) * (j + 0.5f);
        }

        using var q = Q8Activations.Quantize(input, Rows, Inner);
        for (var block = 0; block < Rows * Inner / 32; block++)
        {
            var x = input.AsSpan(block * 32, 32);
            var amax = 0f;
            foreach (var v in x)
            {
                amax = Math.Max(amax, Math.Abs(v));
            }

            Assert.Equal((float)(Half)(amax / 127f), q.Scales[block]);
            var sum = 0;
            for (var j = 0; j < 32; j++)
            {
                var expected = amax == 0 ? 0 : (int)Math.Round(x[j] * (127f / amax), MidpointRounding.ToEven);
                Assert.Equal(expected, q.Values[(block * 32) + j]);
                sum += expected;
            }

            Assert.Equal(sum, q.Sums[block]);
        }

        Assert.Equal(2, q.Values[64 + 2]); // 2.5 rounds to 2, not 3
        Assert.Equal(-4, q.Values[64 + 3]); // -3.5 rounds to -4
    }

    // Every float whose bits are a multiple of 4,099 (about a million values of every exponent, sign and class), and
    // each one's neighbours: the rounding ties of fp16 (low 13 bits 0x1000), the carries into the exponent and both
    // edges of the fast range.
    [Fact]
    public void Rounding_to_fp16_equals_the_conversion_through_Half_for_every_sampled_float()
    {
        static void Check(uint bits)
        {
            var x = BitConverter.UInt32BitsToSingle(bits);
            var expected = BitConverter.SingleToUInt32Bits((float)(Half)x);
            var actual = BitConverter.SingleToUInt32Bits(Q8Activations.RoundToHalf(x));
            if (expected != actual)
            {
                Assert.Fail($"0x{bits:X8}: expected 0x{expected:X8}, got 0x{actual:X8}");
            }
        }

        for (var bits = 0UL; bits <= uint.MaxValue; bits += 4099)
        {
            Check((uint)bits);
        }

        foreach (var sign in new[] { 0u, 0x8000_0000u })
        {
            for (var exponent = 100u; exponent < 150u; exponent++)
            {
                foreach (var low in new[] { 0u, 1u, 0xFFFu, 0x1000u, 0x1001u, 0x1FFFu, 0x2000u, 0x3000u, 0x7F_F000u, 0x7F_FFFFu, 0x7F_E000u })
                {
                    Check(sign | (exponent << 23) | low);
                }
            }
        }
    }

    [Fact]
    public void A_block_with_a_non_finite_scale_is_refused()
    {
        var blocks = new byte[QuantFormat.Q8_0.BlockBytes()];
        BitConverter.TryWriteBytes(blocks, BitConverter.HalfToUInt16Bits(Half.PositiveInfinity));
        var error = Assert.Throws<FormatException>(() => QuantizedMatrix.FromBlocks(QuantFormat.Q8_0, 1, 32, (_, _, buffer) => blocks.CopyTo(buffer)));
        Assert.Contains("non-finite scale", error.Message);
    }

    [Fact]
    public void A_product_is_within_the_worst_case_quantization_bound_of_the_fp32_product()
    {
        // Each weight is off by at most half its block's step d_w (plus the fp16 rounding of d_w, under 2^-11 of
        // |w|), each activation by half of d_x = amax / 127: |error| <= sum |x| d_w / 2 + |w| d_x / 2 + d_w d_x / 4
        // + 2^-10 |x w|, summed over the inner index. The bound is checked element by element and must be tight
        // enough that the largest error uses a fair part of it (not vacuous).
        const int Inner = 512, Columns = 96, Rows = 5;
        var raw = TestData.Random(Columns * Inner, 3);
        var input = TestData.Random(Rows * Inner, 4);
        var exact = new float[Rows * Columns];
        MatMul.MultiplyTransposed(input, PackedMatrix.Pack(raw, Columns, Inner), exact, Rows);
        var weight = QuantizedMatrix.Quantize(raw, Columns, Inner, QuantFormat.Q8_0);
        var q8 = new float[Rows * Columns];
        MatMul.MultiplyTransposed(input, weight, q8, Rows);
        var worstShare = 0.0;
        var blocks = new byte[weight.RowBytes];
        for (var row = 0; row < Rows; row++)
        {
            for (var column = 0; column < Columns; column++)
            {
                weight.CopyRowBlocks(column, blocks);
                var bound = 1e-5;
                for (var b = 0; b < Inner / 32; b++)
                {
                    var dw = Math.Abs(BlockQuantizer.Scale(blocks.AsSpan(b * 34)));
                    var x = input.AsSpan((row * Inner) + (b * 32), 32);
                    var dx = 0.0;
                    foreach (var v in x)
                    {
                        dx = Math.Max(dx, Math.Abs(v) / 127.0);
                    }

                    for (var j = 0; j < 32; j++)
                    {
                        double xv = Math.Abs(x[j]), wv = Math.Abs(raw[(column * Inner) + (b * 32) + j]);
                        bound += (xv * dw / 2) + (wv * dx / 2) + (dw * dx / 4) + (xv * wv / 1024);
                    }
                }

                var error = Math.Abs(q8[(row * Columns) + column] - exact[(row * Columns) + column]);
                Assert.True(error <= bound, $"Row {row} column {column}: error {error} exceeds the bound {bound}.");
                worstShare = Math.Max(worstShare, error / bound);
            }
        }

        Assert.True(worstShare > 0.01, $"The largest error is only {worstShare:P} of its bound: the bound is too loose to test anything.");
    }

    [Fact]
    public void A_mixed_call_with_fp32_and_quantized_weights_gives_each_the_bits_it_gets_alone()
    {
        const int Inner = 128, Rows = 3;
        var input = TestData.Random(Rows * Inner, 5);
        LinearWeight[] weights =
        [
            PackedMatrix.Pack(TestData.Random(70 * Inner, 6), 70, Inner),
            QuantizedMatrix.Quantize(TestData.Random(33 * Inner, 7), 33, Inner, QuantFormat.Q4_0),
            QuantizedMatrix.Quantize(TestData.Random(130 * Inner, 8), 130, Inner, QuantFormat.Q8_0),
        ];
        var outputs = weights.Select(w => new float[Rows * w.Columns]).ToArray();
        MatMul.MultiplyTransposed(input, Rows, [.. weights.Select((w, i) => (w, (Memory<float>)outputs[i]))]);
        for (var i = 0; i < weights.Length; i++)
        {
            var alone = new float[Rows * weights[i].Columns];
            MatMul.MultiplyTransposed(input, weights[i], alone, Rows);
            Assert.Equal(alone, outputs[i]);
        }
    }

    [Fact]
    public void An_inner_dimension_that_is_not_whole_blocks_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => QuantizedMatrix.Quantize(new float[2 * 40], 2, 40, QuantFormat.Q8_0));
        Assert.Contains("multiple of 32", error.Message);
    }

    // sum over blocks of d_w * d_x * sum_j q_w q_x, in double, from the blocks and an independent Q8_0 activation quantizer.
    private static double[] Oracle(QuantizedMatrix weight, float[] input, int rows) =>
        BlockKernelChecks.Oracle(weight, input, rows, 32, (x, xq) =>
        {
            var amax = 0f;
            foreach (var v in x)
            {
                amax = Math.Max(amax, Math.Abs(v));
            }

            var dx = (double)(float)(Half)(amax / 127f);
            for (var j = 0; j < x.Length; j++)
            {
                xq[j] = (amax == 0 ? 0 : Math.Round(x[j] * (127f / amax), MidpointRounding.ToEven)) * dx;
            }
        });
}
