using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Strata.Runtime.Kernels;

/// <summary>
/// Products of Q8-quantized input rows with a <see cref="QuantizedMatrix"/>, read block by block from ggml's
/// layout: for every block the exact integer sum <c>s = sum_j w_j x_j</c>, then <c>acc = fma(d_w * d_x, s, acc)</c>
/// over the blocks in order, from zero.
/// </summary>
/// <remarks>
/// The integer sums are exact whichever way a path forms them (AVX2 <c>vpmaddubsw</c> on 32 values, AVX-512 BW on
/// 64, or a scalar loop), and the float accumulation is one chain per output element in block order: the bits
/// are the same on every path, for every thread count and whether rows are batched (prefill) or not (decode).
/// Rows are taken four at a time so each weight block is unpacked once per four rows; a single row (decode) takes
/// four columns at a time instead, their four chains side by side in one vector. Block scales are read through a
/// table of all fp16 values, never converted in the loops.
/// </remarks>
internal static class QuantizedKernel
{
    private const int B = QuantFormats.BlockValues;
    private const int RowsPerTile = 4;
    private const int ColumnsPerDecodeTile = 4;

    /// <summary>Computes output columns <c>[group * 64, group * 64 + 64)</c> for input rows <c>[0, rows)</c>.</summary>
    public static void MultiplyGroup(QuantizedMatrix weight, Q8Activations input, Span<float> output, int rows, int group, KernelIsa isa)
    {
        if (input.Inner != weight.Inner)
        {
            ThrowHelper.ThrowShape("input", input.Inner, weight.Inner);
        }

        if (!KernelIsas.IntegerSupports(isa))
        {
            throw new PlatformNotSupportedException($"This machine has no {isa} integer instructions.");
        }

        var first = group * LinearWeight.ColumnsPerGroup;
        var last = Math.Min(first + LinearWeight.ColumnsPerGroup, weight.Columns);

        // Decode (one row): four columns at a time, so four independent FMA chains hide each other's latency and one
        // horizontal reduction serves four block sums; the few columns left over take the row path below.
        if (rows == 1 && isa != KernelIsa.Scalar)
        {
            for (; first + ColumnsPerDecodeTile <= last; first += ColumnsPerDecodeTile)
            {
                FourColumns256(weight, first, input, output);
            }
        }

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
                    case KernelIsa.Vector256:
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

    private static void TileScalar(QuantizedMatrix weight, int column, Q8Activations input, int row, int tile, Span<float> acc)
    {
        var blocks = weight.Inner / B;
        var size = weight.Format.BlockBytes();
        var wRow = weight.Row(column);
        Span<int> w = stackalloc int[B];
        for (var b = 0; b < blocks; b++)
        {
            var block = wRow.Slice(b * size, size);
            var dw = HalfTable.Single(BinaryPrimitives.ReadUInt16LittleEndian(block));
            Unpack(block, weight.Format, w);
            for (var r = 0; r < tile; r++)
            {
                var x = input.Values.AsSpan(((row + r) * weight.Inner) + (b * B), B);
                var sum = 0;
                for (var j = 0; j < B; j++)
                {
                    sum += w[j] * x[j];
                }

                acc[r] = MathF.FusedMultiplyAdd(dw * input.Scales[((row + r) * blocks) + b], sum, acc[r]);
            }
        }
    }

    private static void Unpack(ReadOnlySpan<byte> block, QuantFormat format, Span<int> values)
    {
        if (format == QuantFormat.Q8_0)
        {
            for (var j = 0; j < B; j++)
            {
                values[j] = (sbyte)block[2 + j];
            }
        }
        else
        {
            for (var j = 0; j < B / 2; j++)
            {
                values[j] = (block[2 + j] & 0x0F) - 8;
                values[j + (B / 2)] = (block[2 + j] >> 4) - 8;
            }
        }
    }

    // One block's 32 weights as signed bytes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Load256(ref byte block, QuantFormat format)
    {
        if (format == QuantFormat.Q8_0)
        {
            return Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 2)).AsSByte();
        }

        var packed = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, 2));
        var mask = Vector128.Create((byte)0x0F);
        var values = Vector256.Create(packed & mask, Vector128.ShiftRightLogical(packed, 4) & mask).AsSByte();
        return values - Vector256.Create((sbyte)8);
    }

    // The exact integer dot product of 32 weights and 32 activations (|x| <= 127, so no pair sum saturates).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Dot256(Vector256<sbyte> w, Vector256<sbyte> x)
    {
        var pairs = Avx2.MultiplyAddAdjacent(Avx2.Abs(w), Avx2.Sign(x, w));
        return Vector256.Sum(Avx2.MultiplyAddAdjacent(pairs, Vector256<short>.One));
    }

    // The four block sums of columns [column, column + 4) against one input block, exact, as one vector: each 8-lane
    // partial-sum vector is reduced by horizontal adds (integer adds, so the grouping changes nothing).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Sums4(Vector256<int> s0, Vector256<int> s1, Vector256<int> s2, Vector256<int> s3)
    {
        var h = Avx2.HorizontalAdd(Avx2.HorizontalAdd(s0, s1), Avx2.HorizontalAdd(s2, s3));
        return h.GetLower() + h.GetUpper();
    }

    // 32 weights times 32 activations as eight exact partial sums.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Partial256(Vector256<sbyte> w, Vector256<sbyte> x) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w), Avx2.Sign(x, w)), Vector256<short>.One);

    /// <summary>
    /// Output columns <c>[column, column + 4)</c> of input row 0: per column the same chain as <see cref="Tile256"/>
    /// (<c>acc = fma(d_w * d_x, s, acc)</c> in block order), four chains side by side in the lanes of one vector.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourColumns256(QuantizedMatrix weight, int column, Q8Activations input, Span<float> output)
    {
        var blocks = weight.Inner / B;
        var size = weight.Format.BlockBytes();
        var format = weight.Format;
        var rowBytes = weight.RowBytes;
        ref var block = ref weight.RowReference(column);
        ref var x = ref Unsafe.As<sbyte, byte>(ref MemoryMarshal.GetArrayDataReference(input.Values));
        ref var xScales = ref MemoryMarshal.GetArrayDataReference(input.Scales);
        var acc = Vector128<float>.Zero;
        for (var b = 0; b < blocks; b++, block = ref Unsafe.Add(ref block, size))
        {
            ref var block1 = ref Unsafe.Add(ref block, rowBytes);
            ref var block2 = ref Unsafe.Add(ref block, 2 * rowBytes);
            ref var block3 = ref Unsafe.Add(ref block, 3 * rowBytes);
            var xb = Vector256.LoadUnsafe(ref x, (nuint)(b * B)).AsSByte();
            var sums = Sums4(
                Partial256(Load256(ref block, format), xb),
                Partial256(Load256(ref block1, format), xb),
                Partial256(Load256(ref block2, format), xb),
                Partial256(Load256(ref block3, format), xb));
            var scale = Vector128.Create(HalfTable.Single(ref block), HalfTable.Single(ref block1), HalfTable.Single(ref block2), HalfTable.Single(ref block3)) * Vector128.Create(Unsafe.Add(ref xScales, b));
            acc = Vector128.FusedMultiplyAdd(scale, Vector128.ConvertToSingle(sums), acc);
        }

        acc.CopyTo(output.Slice(column, ColumnsPerDecodeTile));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile256(QuantizedMatrix weight, int column, Q8Activations input, int row, int tile, Span<float> acc)
    {
        var blocks = weight.Inner / B;
        var size = weight.Format.BlockBytes();
        var format = weight.Format;
        ref var block = ref weight.RowReference(column);
        ref var x = ref Unsafe.As<sbyte, byte>(ref MemoryMarshal.GetArrayDataReference(input.Values));
        ref var scales = ref MemoryMarshal.GetArrayDataReference(input.Scales);
        var inner = weight.Inner;
        for (var b = 0; b < blocks; b++, block = ref Unsafe.Add(ref block, size))
        {
            var dw = HalfTable.Single(ref block);
            var w = Load256(ref block, format);
            for (var r = 0; r < tile; r++)
            {
                var xb = Vector256.LoadUnsafe(ref x, (nuint)(((row + r) * inner) + (b * B))).AsSByte();
                var sum = Dot256(w, xb);
                acc[r] = MathF.FusedMultiplyAdd(dw * Unsafe.Add(ref scales, ((row + r) * blocks) + b), sum, acc[r]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile512(QuantizedMatrix weight, int column, Q8Activations input, int row, int tile, Span<float> acc)
    {
        var blocks = weight.Inner / B;
        var size = weight.Format.BlockBytes();
        var format = weight.Format;
        ref var block = ref weight.RowReference(column);
        ref var x = ref Unsafe.As<sbyte, byte>(ref MemoryMarshal.GetArrayDataReference(input.Values));
        ref var scales = ref MemoryMarshal.GetArrayDataReference(input.Scales);
        var inner = weight.Inner;
        var b = 0;

        // Two blocks per 512-bit vector; the two integer sums are taken apart and added to the chain in order.
        for (; b + 1 < blocks; b += 2, block = ref Unsafe.Add(ref block, 2 * size))
        {
            ref var next = ref Unsafe.Add(ref block, size);
            var dw0 = HalfTable.Single(ref block);
            var dw1 = HalfTable.Single(ref next);
            var w = Vector512.Create(Load256(ref block, format), Load256(ref next, format));
            var magnitude = Avx512BW.Abs(w);
            var negative = Vector512.LessThan(w, Vector512<sbyte>.Zero);
            for (var r = 0; r < tile; r++)
            {
                var xb = Vector512.LoadUnsafe(ref x, (nuint)(((row + r) * inner) + (b * B))).AsSByte();
                var signed = Vector512.ConditionalSelect(negative, -xb, xb);
                var sums = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(magnitude, signed), Vector512<short>.One);
                var at = ((row + r) * blocks) + b;
                var a = MathF.FusedMultiplyAdd(dw0 * Unsafe.Add(ref scales, at), Vector256.Sum(sums.GetLower()), acc[r]);
                acc[r] = MathF.FusedMultiplyAdd(dw1 * Unsafe.Add(ref scales, at + 1), Vector256.Sum(sums.GetUpper()), a);
            }
        }

        if (b < blocks)
        {
            var dw = HalfTable.Single(ref block);
            var w = Load256(ref block, format);
            for (var r = 0; r < tile; r++)
            {
                var xb = Vector256.LoadUnsafe(ref x, (nuint)(((row + r) * inner) + (b * B))).AsSByte();
                acc[r] = MathF.FusedMultiplyAdd(dw * Unsafe.Add(ref scales, ((row + r) * blocks) + b), Dot256(w, xb), acc[r]);
            }
        }
    }
}
