using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Strata.Runtime.Kernels;

/// <summary>
/// Products of Q8-quantized input rows with a <see cref="QuantizedMatrix"/>, eight output columns at a time from its
/// interleaved panels: for every block the exact integer sum <c>s = sum_j w_j x_j</c>, then
/// <c>acc = fma(d_w * d_x, s, acc)</c> over the blocks in order, from zero.
/// </summary>
/// <remarks>
/// <para>A panel's 32-byte groups hold four inner values of each of eight columns, so a product of one group with the
/// input's four values broadcast gives the eight columns' partial sums in the eight lanes of one vector: no horizontal
/// reduction, and the eight FMA chains run side by side. With AVX-VNNI that is one <c>vpdpbusd</c> per group, the
/// weights as unsigned bytes (Q8_0 stored as <c>q + 128</c>, Q4_0 as its nibbles <c>q + 8</c>) against the signed
/// input, and the bias taken off once per block as <c>bias * sum_j x_j</c> (kept with the input); with AVX2 alone it is
/// <c>vpmaddubsw</c> + <c>vpmaddwd</c>.</para>
/// <para>The integer sums are exact whichever way a path forms them and the float accumulation is one chain per output
/// element in block order, so the bits are the same on every path, for every thread count and whether rows are batched
/// (prefill) or not (decode). Rows are taken four at a time so each panel is loaded once per four rows.</para>
/// </remarks>
internal static class QuantizedKernel
{
    private const int B = QuantFormats.BlockValues;
    private const int T = QuantizedMatrix.TileColumns;
    private const int RowsPerTile = 4;

    // The bits of 2^112: times this, an fp16 exponent placed in a float's exponent field becomes its float value (exact,
    // subnormals included). A constant, not a static field: the kernels are compiled once, fully optimized, and would
    // check the class's initialization inside their loops.
    private const int HalfExponentShiftBits = 0x77800000;

    /// <summary>Computes output columns <c>[group * 64, group * 64 + 64)</c> for input rows <c>[0, rows)</c>.</summary>
    public static void MultiplyGroup(QuantizedMatrix weight, Q8Activations input, Span<float> output, int rows, int group, KernelIsa isa)
    {
        KernelIsas.CheckIntegerProduct(input.Inner, weight.Inner, isa);

        var first = group * LinearWeight.ColumnsPerGroup;
        var last = Math.Min(first + LinearWeight.ColumnsPerGroup, weight.Columns);
        Span<float> tileOutput = stackalloc float[RowsPerTile * T];
        var q8 = weight.Format == QuantFormat.Q8_0;
        for (var tile = first / T; tile * T < last; tile++)
        {
            var width = Math.Min(T, weight.Columns - (tile * T));
            for (var row = 0; row < rows; row += RowsPerTile)
            {
                var count = Math.Min(RowsPerTile, rows - row);
                switch (isa)
                {
                    case KernelIsa.Vnni256 when q8:
                        TileVnni<Q8Panels>(weight, tile, input, row, count, tileOutput);
                        break;
                    case KernelIsa.Vnni256:
                        TileVnni<Q4Panels>(weight, tile, input, row, count, tileOutput);
                        break;
                    case KernelIsa.Vector256 or KernelIsa.Vector512 when q8:
                        TileRows<Q8Panels, Avx2Dot>(weight, tile, input, row, count, tileOutput);
                        break;
                    case KernelIsa.Vector256 or KernelIsa.Vector512:
                        TileRows<Q4Panels, Avx2Dot>(weight, tile, input, row, count, tileOutput);
                        break;
                    default:
                        TileScalar(weight, tile, input, row, count, tileOutput);
                        break;
                }

                for (var r = 0; r < count; r++)
                {
                    tileOutput.Slice(r * T, width).CopyTo(output.Slice(((row + r) * weight.Columns) + (tile * T), width));
                }
            }
        }
    }

    private static void TileScalar(QuantizedMatrix weight, int tile, Q8Activations input, int row, int count, Span<float> result)
    {
        var q8 = weight.Format == QuantFormat.Q8_0;
        var groups = weight.Format.QuantBytes() / QuantizedMatrix.GroupValues;
        result.Clear();
        for (var b = 0; b < weight.Blocks; b++)
        {
            var panel = weight.PanelSpan(tile, b);
            for (var r = 0; r < count; r++)
            {
                var at = ((row + r) * weight.Inner) + (b * B);
                var x = input.Values.AsSpan(at, B);
                var dx = input.Scales[((row + r) * weight.Blocks) + b];
                for (var lane = 0; lane < T; lane++)
                {
                    var sum = 0;
                    for (var g = 0; g < groups; g++)
                    {
                        for (var j = 0; j < QuantizedMatrix.GroupValues; j++)
                        {
                            var v = panel[QuantizedMatrix.ScaleBytes + (((g * T) + lane) * QuantizedMatrix.GroupValues) + j];
                            var k = (g * QuantizedMatrix.GroupValues) + j;
                            sum += q8 ? (sbyte)(v ^ 0x80) * x[k] : (((v & 0x0F) - 8) * x[k]) + (((v >> 4) - 8) * x[k + (B / 2)]);
                        }
                    }

                    var dw = HalfTable.Single(BinaryPrimitives.ReadUInt16LittleEndian(panel[(lane * sizeof(ushort))..]));
                    result[(r * T) + lane] = MathF.FusedMultiplyAdd(dw * dx, sum, result[(r * T) + lane]);
                }
            }
        }
    }

    // Eight fp16 scales widened to floats, exactly as HalfTable gives them for every finite value.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen(ref byte scales)
    {
        var bits = Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref scales).AsUInt16());
        var magnitude = Vector256.ShiftLeft(bits & Vector256.Create(0x7FFF), 13).AsSingle() * Vector256.Create(HalfExponentShiftBits).AsSingle();
        return (magnitude.AsInt32() | Vector256.ShiftLeft(bits & Vector256.Create(0x8000), 16)).AsSingle();
    }

    // Four input values (one group) broadcast to every lane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast(ref byte x, int offset) => Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref x, offset))).AsSByte();

    // A panel's eight groups of unsigned weights: Q8_0 stored (q + 128), Q4_0 nibbles (q + 8), group i against inputs
    // [4i, 4i + 4). The format is a type parameter so each kernel is compiled once per format, with no test in its loop.
    private interface IPanelFormat
    {
        // What the stored unsigned weights exceed the codes by.
        static abstract int Bias { get; }

        static abstract void Load(ref byte panel, out Vector256<byte> w0, out Vector256<byte> w1, out Vector256<byte> w2, out Vector256<byte> w3,
            out Vector256<byte> w4, out Vector256<byte> w5, out Vector256<byte> w6, out Vector256<byte> w7);
    }

    private readonly struct Q8Panels : IPanelFormat
    {
        public static int Bias => 128;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Load(ref byte panel, out Vector256<byte> w0, out Vector256<byte> w1, out Vector256<byte> w2, out Vector256<byte> w3,
            out Vector256<byte> w4, out Vector256<byte> w5, out Vector256<byte> w6, out Vector256<byte> w7)
        {
            ref var quants = ref Unsafe.Add(ref panel, QuantizedMatrix.ScaleBytes);
            w0 = Vector256.LoadUnsafe(ref quants, 0);
            w1 = Vector256.LoadUnsafe(ref quants, 32);
            w2 = Vector256.LoadUnsafe(ref quants, 64);
            w3 = Vector256.LoadUnsafe(ref quants, 96);
            w4 = Vector256.LoadUnsafe(ref quants, 128);
            w5 = Vector256.LoadUnsafe(ref quants, 160);
            w6 = Vector256.LoadUnsafe(ref quants, 192);
            w7 = Vector256.LoadUnsafe(ref quants, 224);
        }
    }

    private readonly struct Q4Panels : IPanelFormat
    {
        public static int Bias => 8;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Load(ref byte panel, out Vector256<byte> w0, out Vector256<byte> w1, out Vector256<byte> w2, out Vector256<byte> w3,
            out Vector256<byte> w4, out Vector256<byte> w5, out Vector256<byte> w6, out Vector256<byte> w7)
        {
            ref var quants = ref Unsafe.Add(ref panel, QuantizedMatrix.ScaleBytes);
            var mask = Vector256.Create((byte)0x0F);
            var p0 = Vector256.LoadUnsafe(ref quants, 0);
            var p1 = Vector256.LoadUnsafe(ref quants, 32);
            var p2 = Vector256.LoadUnsafe(ref quants, 64);
            var p3 = Vector256.LoadUnsafe(ref quants, 96);
            w0 = p0 & mask;
            w1 = p1 & mask;
            w2 = p2 & mask;
            w3 = p3 & mask;
            w4 = Vector256.ShiftRightLogical(p0.AsUInt16(), 4).AsByte() & mask;
            w5 = Vector256.ShiftRightLogical(p1.AsUInt16(), 4).AsByte() & mask;
            w6 = Vector256.ShiftRightLogical(p2.AsUInt16(), 4).AsByte() & mask;
            w7 = Vector256.ShiftRightLogical(p3.AsUInt16(), 4).AsByte() & mask;
        }
    }

    // The eight columns' exact block sums against one input block, by vpdpbusd, starting from -bias * sum_j x_j: four
    // independent chains of two, so the multiply-adds' latency overlaps (integer sums: the grouping changes nothing).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> DotVnni(ref byte x, int start, Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
        Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7)
    {
        var s0 = AvxVnni.MultiplyWideningAndAdd(Vector256.Create(start), w0, Broadcast(ref x, 0));
        var s1 = AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, w1, Broadcast(ref x, 4));
        var s2 = AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, w2, Broadcast(ref x, 8));
        var s3 = AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, w3, Broadcast(ref x, 12));
        s0 = AvxVnni.MultiplyWideningAndAdd(s0, w4, Broadcast(ref x, 16));
        s1 = AvxVnni.MultiplyWideningAndAdd(s1, w5, Broadcast(ref x, 20));
        s2 = AvxVnni.MultiplyWideningAndAdd(s2, w6, Broadcast(ref x, 24));
        s3 = AvxVnni.MultiplyWideningAndAdd(s3, w7, Broadcast(ref x, 28));
        return (s0 + s1) + (s2 + s3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileVnni<TFormat>(QuantizedMatrix weight, int tile, Q8Activations input, int row, int count, Span<float> result)
        where TFormat : struct, IPanelFormat
    {
        var blocks = weight.Blocks;
        var inner = weight.Inner;
        var panelBytes = weight.PanelBytes;
        var bias = -TFormat.Bias;
        ref var panel = ref weight.Panel(tile, 0);
        ref var x = ref Unsafe.As<sbyte, byte>(ref MemoryMarshal.GetArrayDataReference(input.Values));
        ref var xScales = ref MemoryMarshal.GetArrayDataReference(input.Scales);
        ref var xSums = ref MemoryMarshal.GetArrayDataReference(input.Sums);
        if (count == 1)
        {
            // Decode: one chain of eight lanes.
            ref var x0 = ref Unsafe.Add(ref x, row * inner);
            var at = row * blocks;
            var acc = Vector256<float>.Zero;
            for (var b = 0; b < blocks; b++, panel = ref Unsafe.Add(ref panel, panelBytes), x0 = ref Unsafe.Add(ref x0, B))
            {
                TFormat.Load(ref panel, out var w0, out var w1, out var w2, out var w3, out var w4, out var w5, out var w6, out var w7);
                var s = DotVnni(ref x0, bias * Unsafe.Add(ref xSums, at + b), w0, w1, w2, w3, w4, w5, w6, w7);
                acc = Vector256.FusedMultiplyAdd(Widen(ref panel) * Vector256.Create(Unsafe.Add(ref xScales, at + b)), Vector256.ConvertToSingle(s), acc);
            }

            acc.StoreUnsafe(ref MemoryMarshal.GetReference(result));
            return;
        }

        if (count == RowsPerTile)
        {
            // Prefill: four rows' chains held in registers, each panel loaded once for the four.
            ref var x0 = ref Unsafe.Add(ref x, row * inner);
            ref var x1 = ref Unsafe.Add(ref x0, inner);
            ref var x2 = ref Unsafe.Add(ref x1, inner);
            ref var x3 = ref Unsafe.Add(ref x2, inner);
            var at = row * blocks;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (var b = 0; b < blocks; b++, panel = ref Unsafe.Add(ref panel, panelBytes), at++)
            {
                TFormat.Load(ref panel, out var w0, out var w1, out var w2, out var w3, out var w4, out var w5, out var w6, out var w7);
                var dw = Widen(ref panel);
                var offset = b * B;
                a0 = Vector256.FusedMultiplyAdd(dw * Vector256.Create(Unsafe.Add(ref xScales, at)),
                    Vector256.ConvertToSingle(DotVnni(ref Unsafe.Add(ref x0, offset), bias * Unsafe.Add(ref xSums, at), w0, w1, w2, w3, w4, w5, w6, w7)), a0);
                a1 = Vector256.FusedMultiplyAdd(dw * Vector256.Create(Unsafe.Add(ref xScales, at + blocks)),
                    Vector256.ConvertToSingle(DotVnni(ref Unsafe.Add(ref x1, offset), bias * Unsafe.Add(ref xSums, at + blocks), w0, w1, w2, w3, w4, w5, w6, w7)), a1);
                a2 = Vector256.FusedMultiplyAdd(dw * Vector256.Create(Unsafe.Add(ref xScales, at + (2 * blocks))),
                    Vector256.ConvertToSingle(DotVnni(ref Unsafe.Add(ref x2, offset), bias * Unsafe.Add(ref xSums, at + (2 * blocks)), w0, w1, w2, w3, w4, w5, w6, w7)), a2);
                a3 = Vector256.FusedMultiplyAdd(dw * Vector256.Create(Unsafe.Add(ref xScales, at + (3 * blocks))),
                    Vector256.ConvertToSingle(DotVnni(ref Unsafe.Add(ref x3, offset), bias * Unsafe.Add(ref xSums, at + (3 * blocks)), w0, w1, w2, w3, w4, w5, w6, w7)), a3);
            }

            ref var destination = ref MemoryMarshal.GetReference(result);
            a0.StoreUnsafe(ref destination, 0);
            a1.StoreUnsafe(ref destination, T);
            a2.StoreUnsafe(ref destination, 2 * T);
            a3.StoreUnsafe(ref destination, 3 * T);
            return;
        }

        TileRows<TFormat, VnniDot>(weight, tile, input, row, count, result); // two or three rows left over
    }

    // Any number of rows (up to four), their chains kept in memory: the AVX2 path, and the rows the VNNI path's
    // register tiles leave over.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileRows<TFormat, TDot>(QuantizedMatrix weight, int tile, Q8Activations input, int row, int count, Span<float> result)
        where TFormat : struct, IPanelFormat
        where TDot : struct, IBlockDot
    {
        var blocks = weight.Blocks;
        var inner = weight.Inner;
        var panelBytes = weight.PanelBytes;
        ref var panel = ref weight.Panel(tile, 0);
        ref var x = ref Unsafe.As<sbyte, byte>(ref MemoryMarshal.GetArrayDataReference(input.Values));
        ref var xScales = ref MemoryMarshal.GetArrayDataReference(input.Scales);
        ref var xSums = ref MemoryMarshal.GetArrayDataReference(input.Sums);
        Span<Vector256<float>> acc = stackalloc Vector256<float>[RowsPerTile];
        acc.Clear();
        for (var b = 0; b < blocks; b++, panel = ref Unsafe.Add(ref panel, panelBytes))
        {
            TFormat.Load(ref panel, out var w0, out var w1, out var w2, out var w3, out var w4, out var w5, out var w6, out var w7);
            var dw = Widen(ref panel);
            for (var r = 0; r < count; r++)
            {
                var at = ((row + r) * blocks) + b;
                ref var xb = ref Unsafe.Add(ref x, ((row + r) * inner) + (b * B));
                var s = TDot.Dot<TFormat>(ref xb, Unsafe.Add(ref xSums, at), w0, w1, w2, w3, w4, w5, w6, w7);
                acc[r] = Vector256.FusedMultiplyAdd(dw * Vector256.Create(Unsafe.Add(ref xScales, at)), Vector256.ConvertToSingle(s), acc[r]);
            }
        }

        for (var r = 0; r < count; r++)
        {
            acc[r].StoreUnsafe(ref MemoryMarshal.GetReference(result), (nuint)(r * T));
        }
    }

    // How a path forms the eight columns' exact block sums of one panel against one input block (its code sum given).
    private interface IBlockDot
    {
        static abstract Vector256<int> Dot<TFormat>(ref byte x, int xSum, Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
            Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7)
            where TFormat : struct, IPanelFormat;
    }

    private readonly struct VnniDot : IBlockDot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot<TFormat>(ref byte x, int xSum, Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
            Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7)
            where TFormat : struct, IPanelFormat => DotVnni(ref x, -TFormat.Bias * xSum, w0, w1, w2, w3, w4, w5, w6, w7);
    }

    private readonly struct Avx2Dot : IBlockDot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot<TFormat>(ref byte x, int xSum, Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
            Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7)
            where TFormat : struct, IPanelFormat => DotAvx2(ref x, TFormat.Bias == Q8Panels.Bias, -Q4Panels.Bias * xSum, w0, w1, w2, w3, w4, w5, w6, w7);
    }

    // The eight columns' exact block sums against one input block with AVX2 alone: vpmaddubsw needs |pair sums| <= 32767,
    // so Q8_0 takes |w| against x with w's sign, and Q4_0 (nibbles <= 15) its unsigned nibbles less 8 * sum_j x_j.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> DotAvx2(ref byte x, bool q8, int q4Start, Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
        Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7)
    {
        if (q8)
        {
            return Q8Pairs(w0, Broadcast(ref x, 0)) + Q8Pairs(w1, Broadcast(ref x, 4)) + Q8Pairs(w2, Broadcast(ref x, 8)) + Q8Pairs(w3, Broadcast(ref x, 12))
                + Q8Pairs(w4, Broadcast(ref x, 16)) + Q8Pairs(w5, Broadcast(ref x, 20)) + Q8Pairs(w6, Broadcast(ref x, 24)) + Q8Pairs(w7, Broadcast(ref x, 28));
        }

        // Each product pair is at most 2 * 15 * 127, so the eight groups' pairs add up in 16 bits (30,480 at most).
        var pairs = Avx2.MultiplyAddAdjacent(w0, Broadcast(ref x, 0)) + Avx2.MultiplyAddAdjacent(w1, Broadcast(ref x, 4))
            + Avx2.MultiplyAddAdjacent(w2, Broadcast(ref x, 8)) + Avx2.MultiplyAddAdjacent(w3, Broadcast(ref x, 12))
            + Avx2.MultiplyAddAdjacent(w4, Broadcast(ref x, 16)) + Avx2.MultiplyAddAdjacent(w5, Broadcast(ref x, 20))
            + Avx2.MultiplyAddAdjacent(w6, Broadcast(ref x, 24)) + Avx2.MultiplyAddAdjacent(w7, Broadcast(ref x, 28));
        return Avx2.MultiplyAddAdjacent(pairs, Vector256<short>.One) + Vector256.Create(q4Start);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Q8Pairs(Vector256<byte> stored, Vector256<sbyte> x)
    {
        var w = (stored ^ Vector256.Create((byte)0x80)).AsSByte();
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w), Avx2.Sign(x, w)), Vector256<short>.One);
    }
}
