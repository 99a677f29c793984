using System.Buffers;
using System.Numerics.Tensors;
using Strata.Runtime.Kernels;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Engine;

/// <summary>A Llama-architecture decoder in fp32, run in separable steps: embed, any contiguous block range, LM head.</summary>
/// <remarks>
/// The steps are what block servers, split clients and phase-split prefill call: a client embeds, each
/// server runs its range on the hidden states of a session, the client applies the head. Running
/// <c>[0, k)</c> then <c>[k, L)</c> gives the same bits as running <c>[0, L)</c> at once, and a decode step
/// against the KV cache gives the same bits as recomputing the whole sequence. Thread-safe for distinct
/// sessions; one session runs one step at a time.
/// </remarks>
public sealed class LlamaModel
{
    private readonly RotaryEmbedding _rotary;
    private readonly float _epsilon;

    /// <summary>Creates a model from its configuration and the weights this process holds.</summary>
    public LlamaModel(LlamaConfig config, LlamaWeights weights)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Blocks.End > config.LayerCount)
        {
            throw new ArgumentException(
                $"Weights hold blocks [{weights.Blocks.First}, {weights.Blocks.End}) but the model has {config.LayerCount}.", nameof(weights));
        }

        Config = config;
        Weights = weights;
        _rotary = new RotaryEmbedding(config.HeadDimension, config.RopeTheta, config.RopeScaling is { } scaling ? scaling.Apply : null);
        _epsilon = (float)config.RmsNormEpsilon;
    }

    /// <summary>The model's configuration.</summary>
    public LlamaConfig Config { get; }

    /// <summary>The weights this process holds.</summary>
    public LlamaWeights Weights { get; }

    /// <summary>Starts a session with empty KV caches.</summary>
    public InferenceSession CreateSession() => new(Config);

    /// <summary>Looks up the embeddings of <paramref name="tokens"/>.</summary>
    /// <param name="tokens">Token ids, <c>(tokens)</c>.</param>
    /// <param name="hidden">Hidden states, <c>(tokens, hidden)</c>.</param>
    public void Embed(ReadOnlySpan<int> tokens, Span<float> hidden)
    {
        if (!Weights.HoldsEmbedding)
        {
            throw new InvalidOperationException("The token embedding is not loaded in this process.");
        }

        var h = Config.HiddenSize;
        ThrowHelper.CheckLength(hidden.Length, tokens.Length * h, nameof(hidden));
        for (var t = 0; t < tokens.Length; t++)
        {
            var token = tokens[t];
            if ((uint)token >= (uint)Config.VocabularySize)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), token, $"Token id {token} is outside the vocabulary [0, {Config.VocabularySize}).");
            }

            Weights.CopyEmbedding(token, hidden.Slice(t * h, h));
        }
    }

    /// <summary>Looks up the embeddings of <paramref name="tokens"/> into a new array, <c>(tokens, hidden)</c>.</summary>
    public float[] Embed(ReadOnlySpan<int> tokens)
    {
        var hidden = new float[tokens.Length * Config.HiddenSize];
        Embed(tokens, hidden);
        return hidden;
    }

    /// <summary>Runs blocks <c>[firstBlock, firstBlock + blockCount)</c> on the hidden states of new tokens of a session, in place.</summary>
    /// <param name="session">The session; each block appends the new tokens to its KV cache.</param>
    /// <param name="firstBlock">First block to run.</param>
    /// <param name="blockCount">Number of blocks to run.</param>
    /// <param name="hidden">Hidden states of the new tokens, <c>(tokens, hidden)</c>; overwritten with the range's output.</param>
    /// <param name="tokens">Number of new tokens; they sit at the positions after those already cached.</param>
    /// <exception cref="InvalidOperationException">The blocks of the range have cached different numbers of tokens.</exception>
    public void ForwardBlocks(InferenceSession session, int firstBlock, int blockCount, Memory<float> hidden, int tokens)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentOutOfRangeException.ThrowIfNegative(firstBlock);
        ArgumentOutOfRangeException.ThrowIfNegative(blockCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstBlock + blockCount, Config.LayerCount, nameof(blockCount));
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        ThrowHelper.CheckLength(hidden.Length, tokens * Config.HiddenSize, nameof(hidden));
        if (tokens == 0 || blockCount == 0)
        {
            return;
        }

        var position = CheckedPosition(session, firstBlock, blockCount);
        using var scratch = new ForwardScratch(Config, tokens);
        for (var block = firstBlock; block < firstBlock + blockCount; block++)
        {
            ForwardBlock(Weights.Block(block), session.Cache(block), hidden[..(tokens * Config.HiddenSize)], tokens, position, scratch);
        }
    }

    /// <summary>
    /// Runs blocks <c>[firstBlock, firstBlock + blockCount)</c> on one new token of each of several sessions at once: one
    /// pass over the weights for every row, attention and rotary position per session.
    /// </summary>
    /// <param name="rows">Each session and the hidden state of its next token, <c>(hidden)</c>, overwritten with the range's output; every session at most once.</param>
    /// <param name="firstBlock">First block to run.</param>
    /// <param name="blockCount">Number of blocks to run.</param>
    /// <remarks>
    /// Each row gets the same bits as <see cref="ForwardBlocks"/> of that session alone with one token: the projections
    /// compute every output element as one in-order accumulation whatever the number of rows (see <see cref="MatMul"/>),
    /// RMSNorm, rotary embedding and attention work row by row. Sessions may sit at different positions. Every row is
    /// checked before any cache changes, so a refused batch leaves every session as it was.
    /// </remarks>
    /// <exception cref="ArgumentException">A session appears twice, or a row is not one hidden state wide.</exception>
    /// <exception cref="InvalidOperationException">The blocks of the range have cached different numbers of tokens for a session.</exception>
    public void ForwardDecodeBatch(IReadOnlyList<DecodeRow> rows, int firstBlock, int blockCount)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(firstBlock);
        ArgumentOutOfRangeException.ThrowIfNegative(blockCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstBlock + blockCount, Config.LayerCount, nameof(blockCount));
        var count = rows.Count;
        if (count == 0 || blockCount == 0)
        {
            return;
        }

        var h = Config.HiddenSize;
        var positions = new int[count];
        var seen = new HashSet<InferenceSession>(ReferenceEqualityComparer.Instance);
        for (var r = 0; r < count; r++)
        {
            var (session, hidden) = rows[r];
            ArgumentNullException.ThrowIfNull(session, nameof(rows));
            ThrowHelper.CheckLength(hidden.Length, h, nameof(rows));
            if (!seen.Add(session))
            {
                throw new ArgumentException($"Row {r} repeats a session of an earlier row; a batched step runs one token per session.", nameof(rows));
            }

            positions[r] = CheckedPosition(session, firstBlock, blockCount);
        }

        var stacked = ArrayPool<float>.Shared.Rent(count * h); // (rows, hidden)
        try
        {
            for (var r = 0; r < count; r++)
            {
                rows[r].Hidden.Span[..h].CopyTo(stacked.AsSpan(r * h, h));
            }

            using var scratch = new ForwardScratch(Config, count);
            var caches = new BlockKvCache[count];
            for (var block = firstBlock; block < firstBlock + blockCount; block++)
            {
                for (var r = 0; r < count; r++)
                {
                    caches[r] = rows[r].Session.Cache(block);
                }

                ForwardDecodeBlock(Weights.Block(block), caches, stacked.AsMemory(0, count * h), positions, scratch);
            }

            for (var r = 0; r < count; r++)
            {
                stacked.AsSpan(r * h, h).CopyTo(rows[r].Hidden.Span);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(stacked);
        }
    }

    /// <summary>Where the next token of <paramref name="session"/> sits in blocks <c>[firstBlock, firstBlock + blockCount)</c>; throws if the blocks disagree.</summary>
    internal int CheckedPosition(InferenceSession session, int firstBlock, int blockCount)
    {
        var position = session.TokenCount(firstBlock);
        for (var block = firstBlock + 1; block < firstBlock + blockCount; block++)
        {
            if (session.TokenCount(block) != position)
            {
                throw new InvalidOperationException(
                    $"Block {block} of the session has cached {session.TokenCount(block)} tokens but block {firstBlock} has {position}; truncate or replay before running the range.");
            }
        }

        return position;
    }

    /// <summary>Applies the final RMSNorm and the LM head to hidden states.</summary>
    /// <param name="hidden">Hidden states after the last block, <c>(tokens, hidden)</c>; left unchanged.</param>
    /// <param name="logits">Logits, <c>(tokens, vocab)</c>.</param>
    /// <param name="tokens">Number of rows.</param>
    public void ComputeLogits(ReadOnlyMemory<float> hidden, Memory<float> logits, int tokens)
    {
        var head = Weights.LmHead ?? throw new InvalidOperationException("The LM head is not loaded in this process.");
        var norm = Weights.FinalNorm ?? throw new InvalidOperationException("The final norm is not loaded in this process.");
        var h = Config.HiddenSize;
        ThrowHelper.CheckLength(hidden.Length, tokens * h, nameof(hidden));
        ThrowHelper.CheckLength(logits.Length, tokens * Config.VocabularySize, nameof(logits));
        var normed = ArrayPool<float>.Shared.Rent(Math.Max(1, tokens * h)); // (tokens, hidden)
        try
        {
            RmsNorm.Apply(hidden.Span, norm, normed, tokens, _epsilon);
            MatMul.MultiplyTransposed(normed.AsMemory(0, tokens * h), head, logits, tokens);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(normed);
        }
    }

    /// <summary>The logits of the last of <paramref name="tokens"/> rows, <c>(vocab)</c>: all sampling needs.</summary>
    public float[] ComputeLastLogits(ReadOnlyMemory<float> hidden, int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokens);
        var h = Config.HiddenSize;
        var logits = new float[Config.VocabularySize];
        ComputeLogits(hidden.Slice((tokens - 1) * h, h), logits, 1);
        return logits;
    }

    private void ForwardBlock(BlockWeights w, BlockKvCache cache, Memory<float> hidden, int tokens, int position, ForwardScratch s)
    {
        var c = Config;

        // Attention: x += o_proj(attn(rope(q), rope(k), v)) of the normed x.
        RmsNorm.Apply(hidden.Span, w.InputNorm, s.Normed.Span, tokens, _epsilon);
        MatMul.MultiplyTransposed(s.Normed, tokens, (w.QueryProjection, s.Query), (w.KeyProjection, s.Key), (w.ValueProjection, s.Value));
        _rotary.Apply(s.Query.Span, tokens, c.HeadCount, position);
        _rotary.Apply(s.Key.Span, tokens, c.KeyValueHeadCount, position);
        cache.Append(s.Key.Span, s.Value.Span, tokens);
        CausalAttention.Compute(s.Query, cache.Keys, cache.Values, s.Attended, tokens, c.HeadCount, c.KeyValueHeadCount, c.HeadDimension, position);
        MatMul.MultiplyTransposed(s.Attended, w.OutputProjection, s.Projected, tokens);
        TensorPrimitives.Add(hidden.Span, s.Projected.Span, hidden.Span);
        ForwardMlp(w, hidden, tokens, s);
    }

    // One token of each of several sessions: the projections once over all rows, rope and attention per session.
    private void ForwardDecodeBlock(BlockWeights w, BlockKvCache[] caches, Memory<float> hidden, int[] positions, ForwardScratch s)
    {
        var c = Config;
        var rows = caches.Length;
        var h = c.HiddenSize;
        var kv = c.KeyValueDimension;
        RmsNorm.Apply(hidden.Span, w.InputNorm, s.Normed.Span, rows, _epsilon);
        MatMul.MultiplyTransposed(s.Normed, rows, (w.QueryProjection, s.Query), (w.KeyProjection, s.Key), (w.ValueProjection, s.Value));
        var keys = new (ReadOnlyMemory<float> Keys, ReadOnlyMemory<float> Values)[rows];
        for (var r = 0; r < rows; r++)
        {
            _rotary.Apply(s.Query.Span.Slice(r * h, h), 1, c.HeadCount, positions[r]);
            _rotary.Apply(s.Key.Span.Slice(r * kv, kv), 1, c.KeyValueHeadCount, positions[r]);
            caches[r].Append(s.Key.Span.Slice(r * kv, kv), s.Value.Span.Slice(r * kv, kv), 1);
            keys[r] = (caches[r].Keys, caches[r].Values);
        }

        CausalAttention.ComputeDecodeBatch(s.Query, keys, s.Attended, c.HeadCount, c.KeyValueHeadCount, c.HeadDimension);
        MatMul.MultiplyTransposed(s.Attended, w.OutputProjection, s.Projected, rows);
        TensorPrimitives.Add(hidden.Span, s.Projected.Span, hidden.Span);
        ForwardMlp(w, hidden, rows, s);
    }

    private void ForwardMlp(BlockWeights w, Memory<float> hidden, int tokens, ForwardScratch s)
    {
        // MLP: x += down(silu(gate(n)) * up(n)) of the normed x.
        RmsNorm.Apply(hidden.Span, w.PostAttentionNorm, s.Normed.Span, tokens, _epsilon);
        MatMul.MultiplyTransposed(s.Normed, tokens, (w.GateProjection, s.Gate), (w.UpProjection, s.Up));
        SwiGlu.Apply(s.Gate.Span, s.Up.Span, s.Gate.Span);
        MatMul.MultiplyTransposed(s.Gate, w.DownProjection, s.Projected, tokens);
        TensorPrimitives.Add(hidden.Span, s.Projected.Span, hidden.Span);
    }
}
