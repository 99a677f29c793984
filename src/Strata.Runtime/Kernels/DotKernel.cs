using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Strata.Runtime.Kernels;

/// <summary>
/// Register-blocked dot products for <see cref="MatMul"/>: a 3 x 3 block of outputs shares its loads
/// (6 vector loads per 9 fused multiply-adds instead of 2 per 1).
/// </summary>
/// <remarks>
/// Every output element is summed in one fixed order whatever block computes it: fused multiply-adds of
/// 8-float chunks in lane-wise accumulators, <see cref="Vector256.Sum{T}(Vector256{T})"/>, then the tail in
/// order. So a token's result does not depend on how many tokens were batched with it, and prefill and
/// incremental decode agree bit for bit. Without 256-bit SIMD hardware, .NET emulates the vectors: same order, slower.
/// The loops are compiled fully optimised on first call (no tier-0 pass): a prompt's first forward pass
/// would otherwise run unoptimised vector code for hundreds of milliseconds.
/// </remarks>
internal static class DotKernel
{
    private const int Block = 3;
    private static readonly int Width = Vector256<float>.Count;

    /// <summary>One dot product in the kernel's fixed order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> w)
    {
        var n = x.Length;
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var wr = ref MemoryMarshal.GetReference(w);
        var acc = Vector256<float>.Zero;
        var k = 0;
        for (; k <= n - Width; k += Width)
        {
            acc = Fma(Vector256.LoadUnsafe(ref xr, (nuint)k), Vector256.LoadUnsafe(ref wr, (nuint)k), acc);
        }

        return Tail(Vector256.Sum(acc), x, w, k);
    }

    /// <summary>Computes <c>output[r, c] = dot(input[r], weight[c])</c> for rows <c>[0, rows)</c> and columns <c>[firstColumn, lastColumn)</c>.</summary>
    /// <param name="input">Input rows, <c>(rows, inner)</c>.</param>
    /// <param name="weight">Weight rows, <c>(columns, inner)</c>.</param>
    /// <param name="output">Output, <c>(rows, columns)</c>.</param>
    /// <param name="rows">Input rows.</param>
    /// <param name="inner">Shared dimension.</param>
    /// <param name="columns">Output width.</param>
    /// <param name="firstColumn">First column to compute.</param>
    /// <param name="lastColumn">One past the last column to compute.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, Span<float> output, int rows, int inner, int columns, int firstColumn, int lastColumn)
    {
        // Row tiles of about 128 KiB keep the inputs in L2 while a column block sweeps them.
        var tileRows = Math.Max(Block, (32 * 1024 / Math.Max(1, inner)) / Block * Block);
        for (var rowStart = 0; rowStart < rows; rowStart += tileRows)
        {
            var rowEnd = Math.Min(rows, rowStart + tileRows);
            var blockedEnd = rowStart + (rowEnd - rowStart) / Block * Block; // rows [rowStart, blockedEnd) go in 3-row blocks
            for (var c = firstColumn; c < lastColumn; c += Block)
            {
                var blockColumns = Math.Min(Block, lastColumn - c);
                for (var r = rowStart; r < blockedEnd && blockColumns == Block; r += Block)
                {
                    Block3x3(input, weight, output, inner, columns, r, c);
                }

                if (blockColumns < Block)
                {
                    for (var r = rowStart; r < blockedEnd; r++)
                    {
                        for (var j = c; j < c + blockColumns; j++)
                        {
                            output[r * columns + j] = Dot(input.Slice(r * inner, inner), weight.Slice(j * inner, inner));
                        }
                    }
                }
            }

            // Rows left over after the 3-row blocks (all of them for a decode step): one row against four
            // weight rows at a time, four independent chains to hide the FMA latency.
            for (var r = blockedEnd; r < rowEnd; r++)
            {
                var c = firstColumn;
                for (; c <= lastColumn - 4; c += 4)
                {
                    Block1x4(input.Slice(r * inner, inner), weight, output, inner, columns, r, c);
                }

                for (; c < lastColumn; c++)
                {
                    output[r * columns + c] = Dot(input.Slice(r * inner, inner), weight.Slice(c * inner, inner));
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    private static float Tail(float sum, ReadOnlySpan<float> x, ReadOnlySpan<float> w, int k)
    {
        for (; k < x.Length; k++)
        {
            sum = MathF.FusedMultiplyAdd(x[k], w[k], sum);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block1x4(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> output, int inner, int columns, int r, int c)
    {
        var w0 = weight.Slice(c * inner, inner);
        var w1 = weight.Slice((c + 1) * inner, inner);
        var w2 = weight.Slice((c + 2) * inner, inner);
        var w3 = weight.Slice((c + 3) * inner, inner);
        ref var rx = ref MemoryMarshal.GetReference(x);
        ref var rw0 = ref MemoryMarshal.GetReference(w0);
        ref var rw1 = ref MemoryMarshal.GetReference(w1);
        ref var rw2 = ref MemoryMarshal.GetReference(w2);
        ref var rw3 = ref MemoryMarshal.GetReference(w3);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var k = 0;
        for (; k <= inner - Width; k += Width)
        {
            var i = (nuint)k;
            var v = Vector256.LoadUnsafe(ref rx, i);
            a0 = Fma(v, Vector256.LoadUnsafe(ref rw0, i), a0);
            a1 = Fma(v, Vector256.LoadUnsafe(ref rw1, i), a1);
            a2 = Fma(v, Vector256.LoadUnsafe(ref rw2, i), a2);
            a3 = Fma(v, Vector256.LoadUnsafe(ref rw3, i), a3);
        }

        var o = r * columns + c;
        output[o] = Tail(Vector256.Sum(a0), x, w0, k);
        output[o + 1] = Tail(Vector256.Sum(a1), x, w1, k);
        output[o + 2] = Tail(Vector256.Sum(a2), x, w2, k);
        output[o + 3] = Tail(Vector256.Sum(a3), x, w3, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block3x3(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, Span<float> output, int inner, int columns, int r, int c)
    {
        var x0 = input.Slice(r * inner, inner);
        var x1 = input.Slice((r + 1) * inner, inner);
        var x2 = input.Slice((r + 2) * inner, inner);
        var w0 = weight.Slice(c * inner, inner);
        var w1 = weight.Slice((c + 1) * inner, inner);
        var w2 = weight.Slice((c + 2) * inner, inner);
        ref var rx0 = ref MemoryMarshal.GetReference(x0);
        ref var rx1 = ref MemoryMarshal.GetReference(x1);
        ref var rx2 = ref MemoryMarshal.GetReference(x2);
        ref var rw0 = ref MemoryMarshal.GetReference(w0);
        ref var rw1 = ref MemoryMarshal.GetReference(w1);
        ref var rw2 = ref MemoryMarshal.GetReference(w2);
        Vector256<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default, a20 = default, a21 = default, a22 = default;
        var k = 0;
        for (; k <= inner - Width; k += Width)
        {
            var i = (nuint)k;
            var v0 = Vector256.LoadUnsafe(ref rx0, i);
            var v1 = Vector256.LoadUnsafe(ref rx1, i);
            var v2 = Vector256.LoadUnsafe(ref rx2, i);
            var u = Vector256.LoadUnsafe(ref rw0, i);
            a00 = Fma(v0, u, a00);
            a10 = Fma(v1, u, a10);
            a20 = Fma(v2, u, a20);
            u = Vector256.LoadUnsafe(ref rw1, i);
            a01 = Fma(v0, u, a01);
            a11 = Fma(v1, u, a11);
            a21 = Fma(v2, u, a21);
            u = Vector256.LoadUnsafe(ref rw2, i);
            a02 = Fma(v0, u, a02);
            a12 = Fma(v1, u, a12);
            a22 = Fma(v2, u, a22);
        }

        var o0 = r * columns + c;
        var o1 = o0 + columns;
        var o2 = o1 + columns;
        output[o0] = Tail(Vector256.Sum(a00), x0, w0, k);
        output[o0 + 1] = Tail(Vector256.Sum(a01), x0, w1, k);
        output[o0 + 2] = Tail(Vector256.Sum(a02), x0, w2, k);
        output[o1] = Tail(Vector256.Sum(a10), x1, w0, k);
        output[o1 + 1] = Tail(Vector256.Sum(a11), x1, w1, k);
        output[o1 + 2] = Tail(Vector256.Sum(a12), x1, w2, k);
        output[o2] = Tail(Vector256.Sum(a20), x2, w0, k);
        output[o2 + 1] = Tail(Vector256.Sum(a21), x2, w1, k);
        output[o2 + 2] = Tail(Vector256.Sum(a22), x2, w2, k);
    }
}
