using Strata.Runtime.Kernels;

namespace Strata.Runtime.Tests.Kernels;

public sealed class KernelTests
{
    private const double Tolerance = 1e-5;

    public static TheoryData<int> Lengths()
    {
        var data = new TheoryData<int>();
        for (var n = 0; n <= 256; n++)
        {
            data.Add(n);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void MatMul_matches_a_scalar_triple_loop(int inner)
    {
        foreach (var (rows, columns) in new[] { (1, 3), (3, 70), (5, 130), (8, 16), (13, 65) })
        {
            var input = TestData.Random(rows * inner, (ulong)(inner * 31 + rows));
            var raw = TestData.Random(columns * inner, (ulong)(inner * 17 + columns));
            var weight = PackedMatrix.Pack(raw, columns, inner);
            var expected = new float[rows * columns];
            var chain = new float[rows * columns];
            for (var r = 0; r < rows; r++)
            {
                for (var c = 0; c < columns; c++)
                {
                    double sum = 0;
                    var fused = 0f;
                    for (var k = 0; k < inner; k++)
                    {
                        sum += (double)input[r * inner + k] * raw[c * inner + k];
                        fused = MathF.FusedMultiplyAdd(input[r * inner + k], raw[c * inner + k], fused);
                    }

                    expected[r * columns + c] = (float)sum;
                    chain[r * columns + c] = fused;
                }
            }

            var wide = new float[rows * columns];
            MatMul.MultiplyTransposed(input, weight, wide, rows, vector512: true);
            var narrow = new float[rows * columns];
            MatMul.MultiplyTransposed(input, weight, narrow, rows, vector512: false);
            var parallel = new float[rows * columns];
            MatMul.MultiplyTransposed(input.AsMemory(), weight, parallel.AsMemory(), rows);
            TestData.AssertClose(expected, wide, 1e-4, $"matmul rows {rows} inner {inner} columns {columns}");
            Assert.Equal(chain, wide);   // one fused multiply-add chain in order per element, exactly
            Assert.Equal(chain, narrow); // whatever the vector width
            Assert.Equal(chain, parallel);
        }
    }

    [Fact]
    public void Parallel_matmul_is_bit_identical_to_sequential_on_a_large_product()
    {
        const int Rows = 7, Inner = 300, Columns = 1000;
        var input = TestData.Random(Rows * Inner, 1);
        var weight = PackedMatrix.Pack(TestData.Random(Columns * Inner, 2), Columns, Inner);
        var sequential = new float[Rows * Columns];
        var parallel = new float[Rows * Columns];
        MatMul.MultiplyTransposed(input, weight, sequential, Rows);
        MatMul.MultiplyTransposed(input.AsMemory(), weight, parallel.AsMemory(), Rows);
        Assert.Equal(sequential, parallel);
    }

    [Fact]
    public void Grouped_products_equal_the_products_one_by_one()
    {
        const int Rows = 4, Inner = 200;
        var input = TestData.Random(Rows * Inner, 5);
        int[] widths = [300, 100, 7];
        var weights = widths.Select((w, i) => PackedMatrix.Pack(TestData.Random(w * Inner, (ulong)(10 + i)), w, Inner)).ToArray();
        var grouped = widths.Select(w => new float[Rows * w]).ToArray();
        MatMul.MultiplyTransposed(input, Rows, [.. widths.Select((w, i) => (weights[i], (Memory<float>)grouped[i]))]);
        for (var i = 0; i < widths.Length; i++)
        {
            var alone = new float[Rows * widths[i]];
            MatMul.MultiplyTransposed(input, weights[i], alone, Rows);
            Assert.Equal(alone, grouped[i]);
        }
    }

    [Fact]
    public void A_row_gets_the_same_bits_alone_as_in_any_batch()
    {
        const int Inner = 77, Columns = 11;
        var weight = PackedMatrix.Pack(TestData.Random(Columns * Inner, 3), Columns, Inner);
        var input = TestData.Random(8 * Inner, 4);
        var batched = new float[8 * Columns];
        MatMul.MultiplyTransposed(input, weight, batched, 8);
        for (var row = 0; row < 8; row++)
        {
            var alone = new float[Columns];
            MatMul.MultiplyTransposed(input.AsSpan(row * Inner, Inner), weight, alone, 1);
            Assert.Equal(batched.AsSpan(row * Columns, Columns).ToArray(), alone);
        }
    }

    [Fact]
    public void A_shape_whose_size_overflows_32_bits_is_refused_before_the_kernel_runs()
    {
        const int Inner = 1 << 15;
        var weight = PackedMatrix.Pack(new float[64 * Inner], 64, Inner);
        const int Rows = 70_000; // 70,000 x 32,768 wraps past int.MaxValue
        Assert.Throws<ArgumentException>(() => MatMul.MultiplyTransposed(new float[1], weight, new float[1], Rows));
        Assert.Throws<ArgumentException>(() => MatMul.MultiplyTransposed(new float[1].AsMemory(), weight, new float[1].AsMemory(), Rows));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(17, 5)]
    [InlineData(64, 3)]
    [InlineData(130, 9)]
    public void Packing_keeps_every_weight_and_pads_to_whole_panel_groups(int columns, int inner)
    {
        var raw = TestData.Random(columns * inner, (ulong)(columns + inner));
        var packed = PackedMatrix.Pack(raw, columns, inner);
        Assert.Equal(raw, packed.ToRowMajor());
        Assert.Equal(raw[(columns - 1) * inner + inner - 1], packed[columns - 1, inner - 1]);
        Assert.Equal(0, packed.PanelCount % PackedMatrix.PanelsPerGroup);
        Assert.True(packed.PanelCount * PackedMatrix.PanelWidth >= columns);
        Assert.True((packed.PanelCount - PackedMatrix.PanelsPerGroup) * PackedMatrix.PanelWidth < columns);
        var row = new float[inner];
        packed.CopyRow(columns / 2, row);
        Assert.Equal(raw.AsSpan(columns / 2 * inner, inner).ToArray(), row);
        Assert.Throws<ArgumentException>(() => PackedMatrix.Pack(raw, columns + 1, inner));
        Assert.Throws<ArgumentOutOfRangeException>(() => packed[columns, 0]);
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(64, 3)]
    [InlineData(130, 7)]
    public void Packing_in_pieces_equals_packing_at_once(int columns, int inner)
    {
        var raw = TestData.Random(columns * inner, (ulong)(columns * inner));
        var reads = new List<(int First, int Count)>();
        var pieces = PackedMatrix.Pack(columns, inner, (first, count, rows) =>
        {
            reads.Add((first, count));
            raw.AsSpan(first * inner, count * inner).CopyTo(rows);
        });
        Assert.Equal(raw, pieces.ToRowMajor());
        Assert.Equal(columns, reads.Sum(read => read.Count));
        Assert.All(reads, read => Assert.True(read.Count <= PackedMatrix.PanelWidth * PackedMatrix.PanelsPerGroup));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void RmsNorm_matches_the_formula(int width)
    {
        const int Rows = 3;
        const float Epsilon = 1e-5f;
        var input = TestData.Random(Rows * width, (ulong)width + 100, 3f);
        var weight = TestData.Random(width, (ulong)width + 200);
        var expected = new float[Rows * width];
        for (var r = 0; r < Rows; r++)
        {
            double squares = 0;
            for (var i = 0; i < width; i++)
            {
                squares += (double)input[r * width + i] * input[r * width + i];
            }

            var scale = 1.0 / Math.Sqrt((width == 0 ? 0 : squares / width) + Epsilon);
            for (var i = 0; i < width; i++)
            {
                expected[r * width + i] = (float)(input[r * width + i] * scale * weight[i]);
            }
        }

        var actual = new float[Rows * width];
        RmsNorm.Apply(input, weight, actual, Rows, Epsilon);
        TestData.AssertClose(expected, actual, Tolerance, $"rmsnorm width {width}");
        RmsNorm.Apply(input, weight, input, Rows, Epsilon); // in place
        TestData.AssertClose(expected, input, Tolerance, $"rmsnorm in place width {width}");
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void SwiGlu_matches_silu_times_up(int length)
    {
        var n = length * 5; // crosses the 256-element chunk boundary
        var gate = TestData.Random(n, (ulong)length + 300, 6f);
        var up = TestData.Random(n, (ulong)length + 400, 2f);
        var expected = new float[n];
        for (var i = 0; i < n; i++)
        {
            expected[i] = (float)(gate[i] / (1 + Math.Exp(-gate[i])) * up[i]);
        }

        var actual = new float[n];
        SwiGlu.Apply(gate, up, actual);
        TestData.AssertClose(expected, actual, Tolerance, $"swiglu length {n}");
        SwiGlu.Apply(gate, up, gate); // output aliases gate
        TestData.AssertClose(expected, gate, Tolerance, $"swiglu in place length {n}");
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Rotary_embedding_matches_the_rotate_half_formula(int halfWidth)
    {
        if (halfWidth == 0)
        {
            return;
        }

        var d = halfWidth * 2;
        const int Tokens = 3, Heads = 2, FirstPosition = 5;
        const double Theta = 10_000;
        var x = TestData.Random(Tokens * Heads * d, (ulong)d + 500);
        var expected = new float[x.Length];
        for (var t = 0; t < Tokens; t++)
        {
            for (var h = 0; h < Heads; h++)
            {
                var o = (t * Heads + h) * d;
                for (var i = 0; i < halfWidth; i++)
                {
                    var angle = (FirstPosition + t) * Math.Pow(Theta, -2.0 * i / d);
                    expected[o + i] = (float)(x[o + i] * Math.Cos(angle) - x[o + i + halfWidth] * Math.Sin(angle));
                    expected[o + i + halfWidth] = (float)(x[o + i + halfWidth] * Math.Cos(angle) + x[o + i] * Math.Sin(angle));
                }
            }
        }

        new RotaryEmbedding(d, Theta).Apply(x, Tokens, Heads, FirstPosition);
        TestData.AssertClose(expected, x, Tolerance, $"rope width {d}");
    }

    [Fact]
    public void Rotary_embedding_turns_a_unit_vector_by_the_position_times_the_frequency()
    {
        // Head width 4, theta 100: pair 0 turns by p rad, pair 1 by p / 10 rad.
        var rope = new RotaryEmbedding(4, 100);
        float[] x = [1, 1, 0, 0];
        rope.Apply(x, 1, 1, 2);
        Assert.Equal(MathF.Cos(2f), x[0], 6);
        Assert.Equal(MathF.Cos(0.2f), x[1], 6);
        Assert.Equal(MathF.Sin(2f), x[2], 6);
        Assert.Equal(MathF.Sin(0.2f), x[3], 6);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Attention_matches_a_scalar_softmax_loop(int headDimension)
    {
        if (headDimension == 0)
        {
            return;
        }

        const int Heads = 4, KvHeads = 2, Tokens = 3, FirstPosition = 4;
        var context = FirstPosition + Tokens;
        var queries = TestData.Random(Tokens * Heads * headDimension, (ulong)headDimension + 600, 2f);
        var keys = TestData.Random(context * KvHeads * headDimension, (ulong)headDimension + 700, 2f);
        var values = TestData.Random(context * KvHeads * headDimension, (ulong)headDimension + 800);
        var expected = new float[queries.Length];
        for (var t = 0; t < Tokens; t++)
        {
            for (var h = 0; h < Heads; h++)
            {
                var g = h / (Heads / KvHeads);
                var visible = FirstPosition + t + 1;
                var scores = new double[visible];
                for (var j = 0; j < visible; j++)
                {
                    double dot = 0;
                    for (var i = 0; i < headDimension; i++)
                    {
                        dot += (double)queries[(t * Heads + h) * headDimension + i] * keys[(j * KvHeads + g) * headDimension + i];
                    }

                    scores[j] = dot / Math.Sqrt(headDimension);
                }

                var max = scores.Max();
                var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
                var total = weights.Sum();
                for (var i = 0; i < headDimension; i++)
                {
                    double sum = 0;
                    for (var j = 0; j < visible; j++)
                    {
                        sum += weights[j] / total * values[(j * KvHeads + g) * headDimension + i];
                    }

                    expected[(t * Heads + h) * headDimension + i] = (float)sum;
                }
            }
        }

        var actual = new float[queries.Length];
        CausalAttention.Compute(queries, keys, values, actual, Tokens, Heads, KvHeads, headDimension, FirstPosition);
        TestData.AssertClose(expected, actual, 1e-4, $"attention head width {headDimension}");
    }

    // The inline score and weighted-sum loops keep TensorPrimitives' operations (Dot, then MultiplyAdd per key) at every
    // head width: widths the inline paths take (multiples of 8 or 16 up to 128) and widths they leave to TensorPrimitives.
    [Theory]
    [InlineData(8, 1, 1)]
    [InlineData(16, 5, 2)]
    [InlineData(40, 9, 3)]
    [InlineData(64, 1, 1)]
    [InlineData(64, 37, 4)]
    [InlineData(80, 20, 2)]
    [InlineData(96, 13, 1)]
    [InlineData(128, 33, 2)]
    [InlineData(144, 7, 2)]
    [InlineData(12, 6, 2)]
    public void Attention_head_has_the_bits_of_TensorPrimitives_dot_and_multiply_add(int headDimension, int visible, int kvHeads)
    {
        var rowWidth = kvHeads * headDimension;
        var query = TestData.Random(headDimension, 11, 2f);
        var keys = TestData.Random(visible * rowWidth, 12, 2f);
        var values = TestData.Random(visible * rowWidth, 13, 2f);
        for (var kvHead = 0; kvHead < kvHeads; kvHead++)
        {
            var actual = new float[headDimension];
            CausalAttention.ComputeHead(query, keys, values, actual, new float[visible], kvHead, kvHeads, visible);

            var scores = new float[visible];
            for (var j = 0; j < visible; j++)
            {
                scores[j] = System.Numerics.Tensors.TensorPrimitives.Dot(query, keys.AsSpan((j * rowWidth) + (kvHead * headDimension), headDimension)) * (1f / MathF.Sqrt(headDimension));
            }

            System.Numerics.Tensors.TensorPrimitives.SoftMax(scores, scores);
            var expected = new float[headDimension];
            for (var j = 0; j < visible; j++)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(values.AsSpan((j * rowWidth) + (kvHead * headDimension), headDimension), scores[j], expected, expected);
            }

            Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
        }
    }
}
