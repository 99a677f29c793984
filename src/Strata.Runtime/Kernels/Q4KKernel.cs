using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Strata.Runtime.Kernels;

/// <summary>
/// Products of Q8_K-quantized input rows with a <see cref="Q4KMatrix"/>, read super-block by super-block from
/// ggml's layout, as llama.cpp's <c>vec_dot_q4_K_q8_K</c> forms them: per super-block the exact integer sums
/// <c>s = sum_j scale_j sum_l q_l x_l</c> and <c>m = sum_j min_j sum_l x_l</c>, then
/// <c>acc = fma(d_w d_x, s, acc)</c> and <c>acc = fma(-(dmin_w d_x), m, acc)</c> over the super-blocks in order, from zero.
/// </summary>
/// <remarks>
/// The integer sums are exact on every path (nibbles 0-15 times codes |x| &lt;= 127 never saturate
/// <c>vpmaddubsw</c>; a super-block's sum is below 2^25), and the float chain is the same on every path, so the
/// bits are the same on the scalar, AVX2 and AVX-512 paths, for every thread count, batched or not. llama.cpp adds
/// the same per-super-block terms in vector lanes, so only that float order differs from it.
/// </remarks>
internal static class Q4KKernel
{
    private const int B = Q4KBlocks.SuperBlockValues;
    private const int S = Q4KBlocks.SubBlockValues;
    private const int RowsPerTile = 4;

    /// <summary>Computes output columns <c>[group * 64, group * 64 + 64)</c> for input rows <c>[0, rows)</c>.</summary>
    public static void MultiplyGroup(Q4KMatrix weight, Q8KActivations input, Span<float> output, int rows, int group, KernelIsa isa)
    {
        KernelIsas.CheckIntegerProduct(input.Inner, weight.Inner, isa);

        var first = group * LinearWeight.ColumnsPerGroup;
        var last = Math.Min(first + LinearWeight.ColumnsPerGroup, weight.Columns);
        Span<float> acc = stackalloc float[RowsPerTile];
        for (var column = first; column < last; column++)
        {
            for (var row = 0; row < rows; row += RowsPerTile)
            {
                var tile = Math.Min(RowsPerTile, rows - row);
                acc.Clear();
                switch (isa)
                {
                    case KernelIsa.Vector512:
                        Tile512(weight, column, input, row, tile, acc);
                        break;
                    case KernelIsa.Vector256 or KernelIsa.Vnni256:
                        Tile256(weight, column, input, row, tile, acc);
                        break;
                    default:
                        TileScalar(weight, column, input, row, tile, acc);
                        break;
                }

                for (var r = 0; r < tile; r++)
                {
                    output[((row + r) * weight.Columns) + column] = acc[r];
                }
            }
        }
    }

    // The 8 scales and 8 mins of a super-block (get_scale_min_k4 for j = 0..7).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScalesAndMins(ReadOnlySpan<byte> packed, Span<short> scales, Span<int> mins)
    {
        for (var j = 0; j < Q4KBlocks.SubBlocks; j++)
        {
            var (sc, m) = Q4KBlocks.ScaleMin(j, packed);
            scales[j] = sc;
            mins[j] = m;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MinSum(Q8KActivations input, int at, Span<int> mins)
    {
        var sum = 0;
        for (var j = 0; j < Q4KBlocks.SubBlocks; j++)
        {
            sum += mins[j] * input.SubBlockSums[at + j];
        }

        return sum;
    }

    private static void TileScalar(Q4KMatrix weight, int column, Q8KActivations input, int row, int tile, Span<float> acc)
    {
        var blocks = weight.Inner / B;
        var wRow = weight.Row(column);
        Span<short> scales = stackalloc short[Q4KBlocks.SubBlocks];
        Span<int> mins = stackalloc int[Q4KBlocks.SubBlocks];
        Span<int> q = stackalloc int[B];
        for (var b = 0; b < blocks; b++)
        {
            var block = wRow.Slice(b * Q4KBlocks.BlockBytes, Q4KBlocks.BlockBytes);
            var d = HalfTable.Single(BinaryPrimitives.ReadUInt16LittleEndian(block));
            var dmin = HalfTable.Single(BinaryPrimitives.ReadUInt16LittleEndian(block[2..]));
            ScalesAndMins(block[Q4KBlocks.ScalesOffset..], scales, mins);
            var nibbles = block[Q4KBlocks.QuantsOffset..];
            for (var c = 0; c < B / 64; c++)
            {
                for (var l = 0; l < 32; l++)
                {
                    q[(c * 64) + l] = nibbles[(c * 32) + l] & 0xF;
                    q[(c * 64) + 32 + l] = nibbles[(c * 32) + l] >> 4;
                }
            }

            for (var r = 0; r < tile; r++)
            {
                var x = input.Values.AsSpan(((row + r) * weight.Inner) + (b * B), B);
                var sum = 0;
                for (var j = 0; j < Q4KBlocks.SubBlocks; j++)
                {
                    var sub = 0;
                    for (var l = 0; l < S; l++)
                    {
                        sub += q[(j * S) + l] * x[(j * S) + l];
                    }

                    sum += scales[j] * sub;
                }

                var dx = input.Scales[((row + r) * blocks) + b];
                var minSum = MinSum(input, (((row + r) * blocks) + b) * Q4KBlocks.SubBlocks, mins);
                acc[r] = MathF.FusedMultiplyAdd(-(dmin * dx), minSum, MathF.FusedMultiplyAdd(d * dx, sum, acc[r]));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile256(Q4KMatrix weight, int column, Q8KActivations input, int row, int tile, Span<float> acc)
    {
        var blocks = weight.Inner / B;
        var inner = weight.Inner;
        ref var block = ref weight.RowReference(column);
        ref var x = ref Unsafe.As<sbyte, byte>(ref MemoryMarshal.GetArrayDataReference(input.Values));
        ref var dxs = ref MemoryMarshal.GetArrayDataReference(input.Scales);
        Span<short> scales = stackalloc short[Q4KBlocks.SubBlocks];
        Span<int> mins = stackalloc int[Q4KBlocks.SubBlocks];
        var mask = Vector256.Create((byte)0x0F);
        for (var b = 0; b < blocks; b++, block = ref Unsafe.Add(ref block, Q4KBlocks.BlockBytes))
        {
            var d = HalfTable.Single(ref block);
            var dmin = HalfTable.Single(ref Unsafe.Add(ref block, 2));
            ScalesAndMins(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref block, Q4KBlocks.ScalesOffset), 12), scales, mins);
            ref var nibbles = ref Unsafe.Add(ref block, Q4KBlocks.QuantsOffset);
            var p0 = Vector256.LoadUnsafe(ref nibbles);
            var p1 = Vector256.LoadUnsafe(ref nibbles, 32);
            var p2 = Vector256.LoadUnsafe(ref nibbles, 64);
            var p3 = Vector256.LoadUnsafe(ref nibbles, 96);
            var w0 = p0 & mask;
            var w1 = Vector256.ShiftRightLogical(p0, 4) & mask;
            var w2 = p1 & mask;
            var w3 = Vector256.ShiftRightLogical(p1, 4) & mask;
            var w4 = p2 & mask;
            var w5 = Vector256.ShiftRightLogical(p2, 4) & mask;
            var w6 = p3 & mask;
            var w7 = Vector256.ShiftRightLogical(p3, 4) & mask;
            for (var r = 0; r < tile; r++)
            {
                var at = (nuint)(((row + r) * inner) + (b * B));
                var sum = Sub256(w0, Vector256.LoadUnsafe(ref x, at).AsSByte(), scales[0]);
                sum += Sub256(w1, Vector256.LoadUnsafe(ref x, at + 32).AsSByte(), scales[1]);
                sum += Sub256(w2, Vector256.LoadUnsafe(ref x, at + 64).AsSByte(), scales[2]);
                sum += Sub256(w3, Vector256.LoadUnsafe(ref x, at + 96).AsSByte(), scales[3]);
                sum += Sub256(w4, Vector256.LoadUnsafe(ref x, at + 128).AsSByte(), scales[4]);
                sum += Sub256(w5, Vector256.LoadUnsafe(ref x, at + 160).AsSByte(), scales[5]);
                sum += Sub256(w6, Vector256.LoadUnsafe(ref x, at + 192).AsSByte(), scales[6]);
                sum += Sub256(w7, Vector256.LoadUnsafe(ref x, at + 224).AsSByte(), scales[7]);
                var index = ((row + r) * blocks) + b;
                var dx = Unsafe.Add(ref dxs, index);
                var minSum = MinSum(input, index * Q4KBlocks.SubBlocks, mins);
                acc[r] = MathF.FusedMultiplyAdd(-(dmin * dx), minSum, MathF.FusedMultiplyAdd(d * dx, Vector256.Sum(sum), acc[r]));
            }
        }
    }

    // scale * (sum of the 32 products of one sub-block) spread over 8 int lanes: vpmaddubsw pairs (at most
    // 2 * 15 * 127), then vpmaddwd by the scale.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Sub256(Vector256<byte> w, Vector256<sbyte> x, short scale) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w, x), Vector256.Create(scale));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile512(Q4KMatrix weight, int column, Q8KActivations input, int row, int tile, Span<float> acc)
    {
        var blocks = weight.Inner / B;
        var inner = weight.Inner;
        ref var block = ref weight.RowReference(column);
        ref var x = ref Unsafe.As<sbyte, byte>(ref MemoryMarshal.GetArrayDataReference(input.Values));
        ref var dxs = ref MemoryMarshal.GetArrayDataReference(input.Scales);
        Span<short> scales = stackalloc short[Q4KBlocks.SubBlocks];
        Span<int> mins = stackalloc int[Q4KBlocks.SubBlocks];
        var mask = Vector256.Create((byte)0x0F);
        for (var b = 0; b < blocks; b++, block = ref Unsafe.Add(ref block, Q4KBlocks.BlockBytes))
        {
            var d = HalfTable.Single(ref block);
            var dmin = HalfTable.Single(ref Unsafe.Add(ref block, 2));
            ScalesAndMins(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref block, Q4KBlocks.ScalesOffset), 12), scales, mins);
            ref var nibbles = ref Unsafe.Add(ref block, Q4KBlocks.QuantsOffset);

            // 32 nibble bytes hold 64 consecutive values: low nibbles then high nibbles, one 512-bit vector.
            var p0 = Vector256.LoadUnsafe(ref nibbles);
            var p1 = Vector256.LoadUnsafe(ref nibbles, 32);
            var p2 = Vector256.LoadUnsafe(ref nibbles, 64);
            var p3 = Vector256.LoadUnsafe(ref nibbles, 96);
            var w0 = Vector512.Create(p0 & mask, Vector256.ShiftRightLogical(p0, 4) & mask);
            var w1 = Vector512.Create(p1 & mask, Vector256.ShiftRightLogical(p1, 4) & mask);
            var w2 = Vector512.Create(p2 & mask, Vector256.ShiftRightLogical(p2, 4) & mask);
            var w3 = Vector512.Create(p3 & mask, Vector256.ShiftRightLogical(p3, 4) & mask);
            var s0 = Vector512.Create(Vector256.Create(scales[0]), Vector256.Create(scales[1]));
            var s1 = Vector512.Create(Vector256.Create(scales[2]), Vector256.Create(scales[3]));
            var s2 = Vector512.Create(Vector256.Create(scales[4]), Vector256.Create(scales[5]));
            var s3 = Vector512.Create(Vector256.Create(scales[6]), Vector256.Create(scales[7]));
            for (var r = 0; r < tile; r++)
            {
                var at = (nuint)(((row + r) * inner) + (b * B));
                var sum = Sub512(w0, Vector512.LoadUnsafe(ref x, at).AsSByte(), s0);
                sum += Sub512(w1, Vector512.LoadUnsafe(ref x, at + 64).AsSByte(), s1);
                sum += Sub512(w2, Vector512.LoadUnsafe(ref x, at + 128).AsSByte(), s2);
                sum += Sub512(w3, Vector512.LoadUnsafe(ref x, at + 192).AsSByte(), s3);
                var index = ((row + r) * blocks) + b;
                var dx = Unsafe.Add(ref dxs, index);
                var minSum = MinSum(input, index * Q4KBlocks.SubBlocks, mins);
                acc[r] = MathF.FusedMultiplyAdd(-(dmin * dx), minSum, MathF.FusedMultiplyAdd(d * dx, Vector512.Sum(sum), acc[r]));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Sub512(Vector512<byte> w, Vector512<sbyte> x, Vector512<short> scales) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(w, x), scales);
}
