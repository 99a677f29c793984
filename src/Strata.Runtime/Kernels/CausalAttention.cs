using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Strata.Runtime.Kernels;

/// <summary>Scaled dot-product attention with a causal mask and grouped-query heads, against a KV cache.</summary>
/// <remarks>
/// Query head <c>h</c> reads KV head <c>h / (heads / kvHeads)</c>. Query row <c>t</c> sits at absolute
/// position <c>firstPosition + t</c> and sees cache rows <c>0..firstPosition + t</c> inclusive. Each
/// (token, head) output is computed by one thread in a fixed order, so results do not depend on threading.
/// </remarks>
public static class CausalAttention
{
    /// <summary>Computes one query head of one token.</summary>
    /// <param name="query">The query, <c>(headDim)</c>, already rotated.</param>
    /// <param name="keys">Key cache, <c>(contextTokens, kvHeads, headDim)</c>, already rotated.</param>
    /// <param name="values">Value cache, <c>(contextTokens, kvHeads, headDim)</c>.</param>
    /// <param name="output">The attended value, <c>(headDim)</c>.</param>
    /// <param name="scores">Scratch, at least <paramref name="visibleTokens"/> long.</param>
    /// <param name="kvHead">Which KV head to read.</param>
    /// <param name="kvHeads">KV heads per cache row.</param>
    /// <param name="visibleTokens">Cache rows this query sees (its position plus one).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ComputeHead(
        ReadOnlySpan<float> query, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        Span<float> scores, int kvHead, int kvHeads, int visibleTokens)
    {
        var d = query.Length;
        ArgumentOutOfRangeException.ThrowIfZero(d, nameof(query));
        ArgumentOutOfRangeException.ThrowIfNegative(kvHead); // the inline loops read unchecked: the head must be in the row
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(kvHead, kvHeads);
        ArgumentOutOfRangeException.ThrowIfNegative(visibleTokens);
        var rowWidth = kvHeads * d;
        ThrowHelper.CheckLength(keys.Length, visibleTokens * rowWidth, nameof(keys));
        ThrowHelper.CheckLength(values.Length, visibleTokens * rowWidth, nameof(values));
        ThrowHelper.CheckLength(output.Length, d, nameof(output));
        ThrowHelper.CheckLength(scores.Length, visibleTokens, nameof(scores));
        var scale = 1f / MathF.Sqrt(d);
        var s = scores[..visibleTokens];
        var keysOfHead = keys[(kvHead * d)..];
        if (Vector512.IsHardwareAccelerated && d % Vector512<float>.Count == 0 && d <= MaxInlineDotWidth)
        {
            Scores512(query, keysOfHead, s, rowWidth, scale);
        }
        else if (!Vector512.IsHardwareAccelerated && Vector256.IsHardwareAccelerated && d % Vector256<float>.Count == 0 && d <= MaxInlineDotWidth / 2)
        {
            Scores256(query, keysOfHead, s, rowWidth, scale);
        }
        else
        {
            for (var j = 0; j < visibleTokens; j++)
            {
                s[j] = TensorPrimitives.Dot(query, keysOfHead.Slice(j * rowWidth, d)) * scale;
            }
        }

        var o = output[..d];
        o.Clear();
        if (visibleTokens == 0)
        {
            return;
        }

        TensorPrimitives.SoftMax(s, s);
        var valuesOfHead = values[(kvHead * d)..];
        if (Vector512.IsHardwareAccelerated && d % Vector512<float>.Count == 0)
        {
            WeightedSum512(valuesOfHead, s, o, rowWidth);
        }
        else if (Vector256.IsHardwareAccelerated && d % Vector256<float>.Count == 0)
        {
            WeightedSum256(valuesOfHead, s, o, rowWidth);
        }
        else
        {
            for (var j = 0; j < visibleTokens; j++)
            {
                TensorPrimitives.MultiplyAdd(valuesOfHead.Slice(j * rowWidth, d), s[j], o, o);
            }
        }
    }

    // The widest head whose scores are computed inline: up to 8 vectors of 512 bits (128 floats; 64 floats, 8 vectors, at 256 bits), TensorPrimitives.Dot
    // adds the products of a row vector by vector in order, starting from zero (no unrolled main loop below that width).
    private const int MaxInlineDotWidth = 128;

    // s[j] = Dot(query, key j) * scale with the operations of TensorPrimitives.Dot at this width, one vector at a time
    // (so the same bits, checked against it in KernelTests), without a call and its checks per key.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scores512(ReadOnlySpan<float> query, ReadOnlySpan<float> keys, Span<float> s, int rowWidth, float scale)
    {
        var d = query.Length;
        ref var q = ref MemoryMarshal.GetReference(query);
        ref var k = ref MemoryMarshal.GetReference(keys);
        var n = d / Vector512<float>.Count;
        var q0 = Vector512.LoadUnsafe(ref q);
        for (var j = 0; j < s.Length; j++)
        {
            ref var row = ref Unsafe.Add(ref k, j * rowWidth);
            var sum = Vector512<float>.Zero + (q0 * Vector512.LoadUnsafe(ref row));
            for (var v = 1; v < n; v++)
            {
                var offset = (nuint)(v * Vector512<float>.Count);
                sum += Vector512.LoadUnsafe(ref q, offset) * Vector512.LoadUnsafe(ref row, offset);
            }

            s[j] = Vector512.Sum(sum) * scale;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scores256(ReadOnlySpan<float> query, ReadOnlySpan<float> keys, Span<float> s, int rowWidth, float scale)
    {
        var d = query.Length;
        ref var q = ref MemoryMarshal.GetReference(query);
        ref var k = ref MemoryMarshal.GetReference(keys);
        var n = d / Vector256<float>.Count;
        var q0 = Vector256.LoadUnsafe(ref q);
        for (var j = 0; j < s.Length; j++)
        {
            ref var row = ref Unsafe.Add(ref k, j * rowWidth);
            var sum = Vector256<float>.Zero + (q0 * Vector256.LoadUnsafe(ref row));
            for (var v = 1; v < n; v++)
            {
                var offset = (nuint)(v * Vector256<float>.Count);
                sum += Vector256.LoadUnsafe(ref q, offset) * Vector256.LoadUnsafe(ref row, offset);
            }

            s[j] = Vector256.Sum(sum) * scale;
        }
    }

    // o = sum over j of value j * s[j], each element accumulated in order of j as (v * s) + o from zero: what repeated
    // TensorPrimitives.MultiplyAdd does element by element (no fused multiply-add), with slices of o held in registers
    // (four at a time: four independent chains).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WeightedSum512(ReadOnlySpan<float> values, ReadOnlySpan<float> s, Span<float> o, int rowWidth)
    {
        const int W = 16;
        ref var v = ref MemoryMarshal.GetReference(values);
        ref var output = ref MemoryMarshal.GetReference(o);
        var c = 0;
        for (; c + (4 * W) <= o.Length; c += 4 * W)
        {
            ref var column = ref Unsafe.Add(ref v, c);
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (var j = 0; j < s.Length; j++)
            {
                ref var row = ref Unsafe.Add(ref column, j * rowWidth);
                var p = Vector512.Create(s[j]);
                a0 = (Vector512.LoadUnsafe(ref row) * p) + a0;
                a1 = (Vector512.LoadUnsafe(ref row, W) * p) + a1;
                a2 = (Vector512.LoadUnsafe(ref row, 2 * W) * p) + a2;
                a3 = (Vector512.LoadUnsafe(ref row, 3 * W) * p) + a3;
            }

            a0.StoreUnsafe(ref output, (nuint)c);
            a1.StoreUnsafe(ref output, (nuint)(c + W));
            a2.StoreUnsafe(ref output, (nuint)(c + (2 * W)));
            a3.StoreUnsafe(ref output, (nuint)(c + (3 * W)));
        }

        for (; c < o.Length; c += W)
        {
            ref var column = ref Unsafe.Add(ref v, c);
            var a0 = Vector512<float>.Zero;
            for (var j = 0; j < s.Length; j++)
            {
                a0 = (Vector512.LoadUnsafe(ref column, (nuint)(j * rowWidth)) * Vector512.Create(s[j])) + a0;
            }

            a0.StoreUnsafe(ref output, (nuint)c);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WeightedSum256(ReadOnlySpan<float> values, ReadOnlySpan<float> s, Span<float> o, int rowWidth)
    {
        const int W = 8;
        ref var v = ref MemoryMarshal.GetReference(values);
        ref var output = ref MemoryMarshal.GetReference(o);
        var c = 0;
        for (; c + (4 * W) <= o.Length; c += 4 * W)
        {
            ref var column = ref Unsafe.Add(ref v, c);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (var j = 0; j < s.Length; j++)
            {
                ref var row = ref Unsafe.Add(ref column, j * rowWidth);
                var p = Vector256.Create(s[j]);
                a0 = (Vector256.LoadUnsafe(ref row) * p) + a0;
                a1 = (Vector256.LoadUnsafe(ref row, W) * p) + a1;
                a2 = (Vector256.LoadUnsafe(ref row, 2 * W) * p) + a2;
                a3 = (Vector256.LoadUnsafe(ref row, 3 * W) * p) + a3;
            }

            a0.StoreUnsafe(ref output, (nuint)c);
            a1.StoreUnsafe(ref output, (nuint)(c + W));
            a2.StoreUnsafe(ref output, (nuint)(c + (2 * W)));
            a3.StoreUnsafe(ref output, (nuint)(c + (3 * W)));
        }

        for (; c < o.Length; c += W)
        {
            ref var column = ref Unsafe.Add(ref v, c);
            var a0 = Vector256<float>.Zero;
            for (var j = 0; j < s.Length; j++)
            {
                a0 = (Vector256.LoadUnsafe(ref column, (nuint)(j * rowWidth)) * Vector256.Create(s[j])) + a0;
            }

            a0.StoreUnsafe(ref output, (nuint)c);
        }
    }

    /// <summary>Computes every head of every query row, in parallel over (token, head) pairs when the work is large.</summary>
    /// <param name="queries">Queries, <c>(tokens, heads, headDim)</c>, already rotated.</param>
    /// <param name="keys">Key cache, <c>(contextTokens, kvHeads, headDim)</c>, holding at least <c>firstPosition + tokens</c> rows.</param>
    /// <param name="values">Value cache, same shape as <paramref name="keys"/>.</param>
    /// <param name="output">Attended values, <c>(tokens, heads, headDim)</c>.</param>
    /// <param name="tokens">Query rows.</param>
    /// <param name="heads">Query heads.</param>
    /// <param name="kvHeads">KV heads (divides <paramref name="heads"/>).</param>
    /// <param name="headDimension">Width of one head.</param>
    /// <param name="firstPosition">Absolute position of the first query row.</param>
    public static void Compute(
        ReadOnlyMemory<float> queries, ReadOnlyMemory<float> keys, ReadOnlyMemory<float> values, Memory<float> output,
        int tokens, int heads, int kvHeads, int headDimension, int firstPosition)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvHeads);
        if (heads % kvHeads != 0)
        {
            throw new ArgumentException($"{heads} query heads are not a multiple of {kvHeads} KV heads.", nameof(kvHeads));
        }

        var width = heads * headDimension;
        ThrowHelper.CheckLength(queries.Length, tokens * width, nameof(queries));
        ThrowHelper.CheckLength(output.Length, tokens * width, nameof(output));
        var group = heads / kvHeads;
        var pairs = tokens * heads;
        var work = (long)pairs * (firstPosition + tokens) * headDimension * 2;

        void Pair(int pair, Span<float> scores)
        {
            var t = pair / heads;
            var h = pair % heads;
            var offset = t * width + h * headDimension;
            ComputeHead(queries.Span.Slice(offset, headDimension), keys.Span, values.Span, output.Span.Slice(offset, headDimension),
                scores, h / group, kvHeads, firstPosition + t + 1);
        }

        var contextTokens = firstPosition + tokens;
        if (work < MatMul.ParallelThresholdMultiplyAdds || pairs < 2 || Environment.ProcessorCount < 2)
        {
            var rented = ArrayPool<float>.Shared.Rent(Math.Max(1, contextTokens));
            for (var pair = 0; pair < pairs; pair++)
            {
                Pair(pair, rented);
            }

            ArrayPool<float>.Shared.Return(rented);
            return;
        }

        Parallel.For(0, pairs,
            () => ArrayPool<float>.Shared.Rent(Math.Max(1, contextTokens)),
            (pair, _, scores) =>
            {
                Pair(pair, scores);
                return scores;
            },
            scores => ArrayPool<float>.Shared.Return(scores));
    }

    /// <summary>
    /// Computes every head of one new token of each of several sessions, each against its own cache (a batched decode
    /// step), in parallel over (session, head) pairs when the work is large; each pair gets the same bits as
    /// <see cref="Compute"/> of that session alone.
    /// </summary>
    /// <param name="queries">One query row per session, <c>(sessions, heads, headDim)</c>, already rotated.</param>
    /// <param name="caches">Each session's keys and values, <c>(contextTokens, kvHeads, headDim)</c>, the new token last.</param>
    /// <param name="output">Attended values, <c>(sessions, heads, headDim)</c>.</param>
    /// <param name="heads">Query heads.</param>
    /// <param name="kvHeads">KV heads (divides <paramref name="heads"/>).</param>
    /// <param name="headDimension">Width of one head.</param>
    public static void ComputeDecodeBatch(
        ReadOnlyMemory<float> queries, IReadOnlyList<(ReadOnlyMemory<float> Keys, ReadOnlyMemory<float> Values)> caches, Memory<float> output,
        int heads, int kvHeads, int headDimension)
    {
        ArgumentNullException.ThrowIfNull(caches);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvHeads);
        if (heads % kvHeads != 0)
        {
            throw new ArgumentException($"{heads} query heads do not divide into {kvHeads} KV heads.", nameof(kvHeads));
        }

        var sessions = caches.Count;
        var width = heads * headDimension;
        var rowWidth = kvHeads * headDimension;
        ThrowHelper.CheckLength(queries.Length, sessions * width, nameof(queries));
        ThrowHelper.CheckLength(output.Length, sessions * width, nameof(output));
        var group = heads / kvHeads;
        var pairs = sessions * heads;
        var work = 0L;
        var longest = 1;
        for (var r = 0; r < sessions; r++)
        {
            var context = caches[r].Keys.Length / rowWidth;
            longest = Math.Max(longest, context);
            work += (long)heads * context * headDimension * 2;
        }

        void Pair(int pair, Span<float> scores)
        {
            var r = pair / heads;
            var h = pair % heads;
            var offset = r * width + h * headDimension;
            var (keys, values) = caches[r];
            ComputeHead(queries.Span.Slice(offset, headDimension), keys.Span, values.Span, output.Span.Slice(offset, headDimension),
                scores, h / group, kvHeads, keys.Length / rowWidth);
        }

        if (work < MatMul.ParallelThresholdMultiplyAdds || pairs < 2 || Environment.ProcessorCount < 2)
        {
            var rented = ArrayPool<float>.Shared.Rent(longest);
            for (var pair = 0; pair < pairs; pair++)
            {
                Pair(pair, rented);
            }

            ArrayPool<float>.Shared.Return(rented);
            return;
        }

        Parallel.For(0, pairs,
            () => ArrayPool<float>.Shared.Rent(longest),
            (pair, _, scores) =>
            {
                Pair(pair, scores);
                return scores;
            },
            scores => ArrayPool<float>.Shared.Return(scores));
    }
}
