using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Strata.Runtime.Kernels;

/// <summary>
/// Register-blocked products against a <see cref="PackedMatrix"/>, a panel group (64 output columns) at a time:
/// vector lanes run along output columns, each input value is broadcast, and every output element is one chain
/// of fused multiply-adds over the inner index in order, <c>acc = fma(x[k], w[k], acc)</c> from zero.
/// </summary>
/// <remarks>
/// Because an element's chain never mixes with another element's, its bits depend neither on the block shape
/// that computes it (6 x 32, 2 x 64 or 1 x 64 outputs with 512-bit vectors; 2 x 32 or 1 x 64 with 256-bit ones), nor on
/// the vector width, nor on how many rows are batched: prefill and incremental decode agree bit for bit, and so
/// do machines with and without AVX-512 (and the scalar loop <c>MathF.FusedMultiplyAdd</c> in order). Without
/// SIMD hardware .NET emulates the vectors: same bits, slower. The loops are compiled fully optimised on first
/// call (no tier-0 pass).
/// </remarks>
internal static class PanelKernel
{
    private const int P = PackedMatrix.PanelWidth;

    /// <summary>Whether the 512-bit path runs by default on this machine.</summary>
    public static bool Vector512ByDefault { get; } = Vector512.IsHardwareAccelerated;

    /// <summary>Computes output columns of panel group <paramref name="group"/> for input rows <c>[0, rows)</c>.</summary>
    /// <param name="input">Input rows, <c>(rows, weight.Inner)</c>.</param>
    /// <param name="weight">The packed weight.</param>
    /// <param name="output">Output, <c>(rows, weight.Columns)</c>.</param>
    /// <param name="rows">Input rows.</param>
    /// <param name="group">Panel group: panels <c>[group * 4, group * 4 + 4)</c>.</param>
    /// <param name="vector512">Use 512-bit vectors (same bits either way).</param>
    public static void MultiplyGroup(ReadOnlySpan<float> input, PackedMatrix weight, Span<float> output, int rows, int group, bool vector512)
    {
        var inner = weight.Inner;
        var firstPanel = group * PackedMatrix.PanelsPerGroup;
        if (firstPanel * P >= weight.Columns)
        {
            return; // padding only
        }

        ref var x = ref MemoryMarshal.GetReference(input);
        var r = 0;
        if (vector512)
        {
            for (; r <= rows - 6; r += 6)
            {
                for (var p = firstPanel; p < firstPanel + PackedMatrix.PanelsPerGroup; p += 2)
                {
                    Rows6Panels2(ref Unsafe.Add(ref x, r * inner), inner, ref weight.Panel(p), ref weight.Panel(p + 1), output, r, p * P, weight.Columns);
                }
            }

            // Rows left over from the 6-row blocks (a batched decode of 7 or 8 sessions): two at a time, so each pass
            // over the weight panels serves two rows instead of one.
            for (; r <= rows - 2; r += 2)
            {
                Rows2Panels4(ref Unsafe.Add(ref x, r * inner), inner, weight, firstPanel, output, r);
            }

            for (; r < rows; r++)
            {
                Row1Panels4(ref Unsafe.Add(ref x, r * inner), inner, weight, firstPanel, output, r);
            }

            return;
        }

        for (; r <= rows - 2; r += 2)
        {
            for (var p = firstPanel; p < firstPanel + PackedMatrix.PanelsPerGroup; p += 2)
            {
                Rows2Panels2Narrow(ref Unsafe.Add(ref x, r * inner), inner, ref weight.Panel(p), ref weight.Panel(p + 1), output, r, p * P, weight.Columns);
            }
        }

        for (; r < rows; r++)
        {
            Row1Panels4Narrow(ref Unsafe.Add(ref x, r * inner), inner, weight, firstPanel, output, r);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fma(Vector512<float> x, Vector512<float> w, Vector512<float> acc) => Vector512.FusedMultiplyAdd(x, w, acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fma(Vector256<float> x, Vector256<float> w, Vector256<float> acc) => Vector256.FusedMultiplyAdd(x, w, acc);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows6Panels2(ref float x, int inner, ref float p0, ref float p1, Span<float> output, int row, int column, int columns)
    {
        ref var x0 = ref x;
        var a00 = Vector512<float>.Zero;
        var a01 = Vector512<float>.Zero;
        var a10 = Vector512<float>.Zero;
        var a11 = Vector512<float>.Zero;
        var a20 = Vector512<float>.Zero;
        var a21 = Vector512<float>.Zero;
        var a30 = Vector512<float>.Zero;
        var a31 = Vector512<float>.Zero;
        var a40 = Vector512<float>.Zero;
        var a41 = Vector512<float>.Zero;
        var a50 = Vector512<float>.Zero;
        var a51 = Vector512<float>.Zero;
        for (var k = 0; k < inner; k++)
        {
            var w0 = Vector512.LoadUnsafe(ref p0);
            var w1 = Vector512.LoadUnsafe(ref p1);
            p0 = ref Unsafe.Add(ref p0, P);
            p1 = ref Unsafe.Add(ref p1, P);
            var b = Vector512.Create(x0);
            a00 = Fma(b, w0, a00);
            a01 = Fma(b, w1, a01);
            b = Vector512.Create(Unsafe.Add(ref x0, inner));
            a10 = Fma(b, w0, a10);
            a11 = Fma(b, w1, a11);
            b = Vector512.Create(Unsafe.Add(ref x0, 2 * inner));
            a20 = Fma(b, w0, a20);
            a21 = Fma(b, w1, a21);
            b = Vector512.Create(Unsafe.Add(ref x0, 3 * inner));
            a30 = Fma(b, w0, a30);
            a31 = Fma(b, w1, a31);
            b = Vector512.Create(Unsafe.Add(ref x0, 4 * inner));
            a40 = Fma(b, w0, a40);
            a41 = Fma(b, w1, a41);
            b = Vector512.Create(Unsafe.Add(ref x0, 5 * inner));
            a50 = Fma(b, w0, a50);
            a51 = Fma(b, w1, a51);
            x0 = ref Unsafe.Add(ref x0, 1);
        }

        // Every accumulator is stored before anything is called: a call with them live makes the JIT spill them in the loop.
        var full = column + (2 * P) <= columns;
        Span<float> tile = stackalloc float[full ? 0 : 6 * 2 * P];
        ref var o = ref full ? ref MemoryMarshal.GetReference(output) : ref MemoryMarshal.GetReference(tile);
        var stride = (nuint)(full ? columns : 2 * P);
        var at = full ? (nuint)(row * columns + column) : 0;
        a00.StoreUnsafe(ref o, at);
        a01.StoreUnsafe(ref o, at + P);
        a10.StoreUnsafe(ref o, at + stride);
        a11.StoreUnsafe(ref o, at + stride + P);
        a20.StoreUnsafe(ref o, at + (2 * stride));
        a21.StoreUnsafe(ref o, at + (2 * stride) + P);
        a30.StoreUnsafe(ref o, at + (3 * stride));
        a31.StoreUnsafe(ref o, at + (3 * stride) + P);
        a40.StoreUnsafe(ref o, at + (4 * stride));
        a41.StoreUnsafe(ref o, at + (4 * stride) + P);
        a50.StoreUnsafe(ref o, at + (5 * stride));
        a51.StoreUnsafe(ref o, at + (5 * stride) + P);
        if (!full)
        {
            CopyTile(tile, 6, output, row, column, columns);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row1Panels4(ref float x, int inner, PackedMatrix weight, int firstPanel, Span<float> output, int row)
    {
        ref var p0 = ref weight.Panel(firstPanel);
        ref var p1 = ref weight.Panel(firstPanel + 1);
        ref var p2 = ref weight.Panel(firstPanel + 2);
        ref var p3 = ref weight.Panel(firstPanel + 3);
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        nuint offset = 0;
        for (nint k = 0; k < inner; k++, offset += P)
        {
            var b = Vector512.Create(Unsafe.Add(ref x, k));
            a0 = Fma(b, Vector512.LoadUnsafe(ref p0, offset), a0);
            a1 = Fma(b, Vector512.LoadUnsafe(ref p1, offset), a1);
            a2 = Fma(b, Vector512.LoadUnsafe(ref p2, offset), a2);
            a3 = Fma(b, Vector512.LoadUnsafe(ref p3, offset), a3);
        }

        var column = firstPanel * P;
        var columns = weight.Columns;
        var full = column + (4 * P) <= columns;
        Span<float> tile = stackalloc float[full ? 0 : 4 * P];
        ref var o = ref full ? ref MemoryMarshal.GetReference(output) : ref MemoryMarshal.GetReference(tile);
        var at = full ? (nuint)(row * columns + column) : 0;
        a0.StoreUnsafe(ref o, at);
        a1.StoreUnsafe(ref o, at + P);
        a2.StoreUnsafe(ref o, at + (2 * P));
        a3.StoreUnsafe(ref o, at + (3 * P));
        if (!full)
        {
            CopyTile(tile, 1, output, row, column, columns);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows2Panels4(ref float x, int inner, PackedMatrix weight, int firstPanel, Span<float> output, int row)
    {
        ref var p0 = ref weight.Panel(firstPanel);
        ref var p1 = ref weight.Panel(firstPanel + 1);
        ref var p2 = ref weight.Panel(firstPanel + 2);
        ref var p3 = ref weight.Panel(firstPanel + 3);
        ref var x1 = ref Unsafe.Add(ref x, inner);
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        nuint offset = 0;
        for (nint k = 0; k < inner; k++, offset += P)
        {
            var w0 = Vector512.LoadUnsafe(ref p0, offset);
            var w1 = Vector512.LoadUnsafe(ref p1, offset);
            var w2 = Vector512.LoadUnsafe(ref p2, offset);
            var w3 = Vector512.LoadUnsafe(ref p3, offset);
            var b = Vector512.Create(Unsafe.Add(ref x, k));
            a0 = Fma(b, w0, a0);
            a1 = Fma(b, w1, a1);
            a2 = Fma(b, w2, a2);
            a3 = Fma(b, w3, a3);
            b = Vector512.Create(Unsafe.Add(ref x1, k));
            b0 = Fma(b, w0, b0);
            b1 = Fma(b, w1, b1);
            b2 = Fma(b, w2, b2);
            b3 = Fma(b, w3, b3);
        }

        var column = firstPanel * P;
        var columns = weight.Columns;
        var full = column + (4 * P) <= columns;
        Span<float> tile = stackalloc float[full ? 0 : 2 * 4 * P];
        ref var o = ref full ? ref MemoryMarshal.GetReference(output) : ref MemoryMarshal.GetReference(tile);
        var stride = (nuint)(full ? columns : 4 * P);
        var at = full ? (nuint)(row * columns + column) : 0;
        a0.StoreUnsafe(ref o, at);
        a1.StoreUnsafe(ref o, at + P);
        a2.StoreUnsafe(ref o, at + (2 * P));
        a3.StoreUnsafe(ref o, at + (3 * P));
        b0.StoreUnsafe(ref o, at + stride);
        b1.StoreUnsafe(ref o, at + stride + P);
        b2.StoreUnsafe(ref o, at + stride + (2 * P));
        b3.StoreUnsafe(ref o, at + stride + (3 * P));
        if (!full)
        {
            CopyTile(tile, 2, output, row, column, columns);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows2Panels2Narrow(ref float x, int inner, ref float p0, ref float p1, Span<float> output, int row, int column, int columns)
    {
        ref var x0 = ref x;
        ref var x1 = ref Unsafe.Add(ref x, inner);
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
        nuint offset = 0;
        for (nint k = 0; k < inner; k++, offset += P)
        {
            var w0 = Vector256.LoadUnsafe(ref p0, offset);
            var w1 = Vector256.LoadUnsafe(ref p0, offset + 8);
            var w2 = Vector256.LoadUnsafe(ref p1, offset);
            var w3 = Vector256.LoadUnsafe(ref p1, offset + 8);
            var b = Vector256.Create(Unsafe.Add(ref x0, k));
            a00 = Fma(b, w0, a00);
            a01 = Fma(b, w1, a01);
            a02 = Fma(b, w2, a02);
            a03 = Fma(b, w3, a03);
            b = Vector256.Create(Unsafe.Add(ref x1, k));
            a10 = Fma(b, w0, a10);
            a11 = Fma(b, w1, a11);
            a12 = Fma(b, w2, a12);
            a13 = Fma(b, w3, a13);
        }

        var full = column + (2 * P) <= columns;
        Span<float> tile = stackalloc float[full ? 0 : 2 * 2 * P];
        ref var o = ref full ? ref MemoryMarshal.GetReference(output) : ref MemoryMarshal.GetReference(tile);
        var stride = (nuint)(full ? columns : 2 * P);
        var at = full ? (nuint)(row * columns + column) : 0;
        a00.StoreUnsafe(ref o, at);
        a01.StoreUnsafe(ref o, at + 8);
        a02.StoreUnsafe(ref o, at + P);
        a03.StoreUnsafe(ref o, at + P + 8);
        a10.StoreUnsafe(ref o, at + stride);
        a11.StoreUnsafe(ref o, at + stride + 8);
        a12.StoreUnsafe(ref o, at + stride + P);
        a13.StoreUnsafe(ref o, at + stride + P + 8);
        if (!full)
        {
            CopyTile(tile, 2, output, row, column, columns);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row1Panels4Narrow(ref float x, int inner, PackedMatrix weight, int firstPanel, Span<float> output, int row)
    {
        ref var p0 = ref weight.Panel(firstPanel);
        ref var p1 = ref weight.Panel(firstPanel + 1);
        ref var p2 = ref weight.Panel(firstPanel + 2);
        ref var p3 = ref weight.Panel(firstPanel + 3);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        nuint offset = 0;
        for (nint k = 0; k < inner; k++, offset += P)
        {
            var b = Vector256.Create(Unsafe.Add(ref x, k));
            a0 = Fma(b, Vector256.LoadUnsafe(ref p0, offset), a0);
            a1 = Fma(b, Vector256.LoadUnsafe(ref p0, offset + 8), a1);
            a2 = Fma(b, Vector256.LoadUnsafe(ref p1, offset), a2);
            a3 = Fma(b, Vector256.LoadUnsafe(ref p1, offset + 8), a3);
            a4 = Fma(b, Vector256.LoadUnsafe(ref p2, offset), a4);
            a5 = Fma(b, Vector256.LoadUnsafe(ref p2, offset + 8), a5);
            a6 = Fma(b, Vector256.LoadUnsafe(ref p3, offset), a6);
            a7 = Fma(b, Vector256.LoadUnsafe(ref p3, offset + 8), a7);
        }

        var column = firstPanel * P;
        var columns = weight.Columns;
        var full = column + (4 * P) <= columns;
        Span<float> tile = stackalloc float[full ? 0 : 4 * P];
        ref var o = ref full ? ref MemoryMarshal.GetReference(output) : ref MemoryMarshal.GetReference(tile);
        var at = full ? (nuint)(row * columns + column) : 0;
        a0.StoreUnsafe(ref o, at);
        a1.StoreUnsafe(ref o, at + 8);
        a2.StoreUnsafe(ref o, at + P);
        a3.StoreUnsafe(ref o, at + P + 8);
        a4.StoreUnsafe(ref o, at + (2 * P));
        a5.StoreUnsafe(ref o, at + (2 * P) + 8);
        a6.StoreUnsafe(ref o, at + (3 * P));
        a7.StoreUnsafe(ref o, at + (3 * P) + 8);
        if (!full)
        {
            CopyTile(tile, 1, output, row, column, columns);
        }
    }

    /// <summary>Copies a tile of <paramref name="rows"/> rows of a block at the right edge into the output, dropping the padding columns.</summary>
    private static void CopyTile(ReadOnlySpan<float> tile, int rows, Span<float> output, int row, int column, int columns)
    {
        if (column >= columns)
        {
            return;
        }

        var width = tile.Length / rows;
        var kept = columns - column;
        for (var r = 0; r < rows; r++)
        {
            tile.Slice(r * width, kept).CopyTo(output.Slice(((row + r) * columns) + column, kept));
        }
    }
}
