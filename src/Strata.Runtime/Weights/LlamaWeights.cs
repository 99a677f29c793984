using Strata.Core.Placement;
using Strata.Runtime.Kernels;

namespace Strata.Runtime.Weights;

/// <summary>The fp32 weights a process holds: a contiguous range of blocks, and the embedding and head when it needs them.</summary>
public sealed class LlamaWeights
{
    private readonly BlockWeights[] _blocks;

    /// <summary>Creates weights holding blocks <c>[firstBlock, firstBlock + blocks.Count)</c>.</summary>
    /// <param name="firstBlock">Index of the first block held.</param>
    /// <param name="blocks">The blocks held, in order.</param>
    /// <param name="embedding"><c>model.embed_tokens.weight</c>, <c>(vocab, hidden)</c>, or null when not held or read from a tied head.</param>
    /// <param name="finalNorm"><c>model.norm.weight</c>, <c>(hidden)</c>, or null when not held.</param>
    /// <param name="lmHead"><c>lm_head.weight</c>, <c>(vocab, hidden)</c> packed (the embedding's values when tied), or null when not held.</param>
    /// <param name="embeddingIsHead">Tied embeddings: look tokens up in <paramref name="lmHead"/>, so the matrix is held once.</param>
    public LlamaWeights(int firstBlock, IReadOnlyList<BlockWeights> blocks, float[]? embedding, float[]? finalNorm, LinearWeight? lmHead, bool embeddingIsHead = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstBlock);
        ArgumentNullException.ThrowIfNull(blocks);
        if (embeddingIsHead && (lmHead is null || embedding is not null))
        {
            throw new ArgumentException("A tied embedding is read from the LM head: pass the head and no separate embedding.", nameof(embeddingIsHead));
        }

        _blocks = [.. blocks];
        Blocks = new BlockRange(firstBlock, _blocks.Length);
        Embedding = embedding;
        FinalNorm = finalNorm;
        LmHead = lmHead;
        EmbeddingIsHead = embeddingIsHead;
    }

    /// <summary>The blocks held.</summary>
    public BlockRange Blocks { get; }

    /// <summary>The token embedding, <c>(vocab, hidden)</c>, when held apart from the head (see <see cref="EmbeddingIsHead"/>).</summary>
    public float[]? Embedding { get; }

    /// <summary>Whether the embedding is tied and read from <see cref="LmHead"/>.</summary>
    public bool EmbeddingIsHead { get; }

    /// <summary>Whether token embeddings can be looked up in this process.</summary>
    public bool HoldsEmbedding => Embedding is not null || EmbeddingIsHead;

    /// <summary>The final RMSNorm gain, <c>(hidden)</c>, when held.</summary>
    public float[]? FinalNorm { get; }

    /// <summary>The LM head, <c>(vocab, hidden)</c> packed, when held; also the embedding when <see cref="EmbeddingIsHead"/>.</summary>
    public LinearWeight? LmHead { get; }

    /// <summary>Copies the embedding of <paramref name="token"/> into <paramref name="destination"/> (<c>hidden</c> floats).</summary>
    /// <exception cref="InvalidOperationException">The embedding is not held by this process.</exception>
    public void CopyEmbedding(int token, Span<float> destination)
    {
        if (Embedding is { } embedding)
        {
            var width = destination.Length;
            embedding.AsSpan(token * width, width).CopyTo(destination);
        }
        else if (EmbeddingIsHead)
        {
            LmHead!.CopyRow(token, destination);
        }
        else
        {
            throw new InvalidOperationException("The token embedding is not loaded in this process.");
        }
    }

    /// <summary>Whether block <paramref name="blockIndex"/> is held.</summary>
    public bool HoldsBlock(int blockIndex) => Blocks.Contains(blockIndex);

    /// <summary>The weights of block <paramref name="blockIndex"/>.</summary>
    /// <exception cref="InvalidOperationException">The block is not held by this process.</exception>
    public BlockWeights Block(int blockIndex) =>
        HoldsBlock(blockIndex)
            ? _blocks[blockIndex - Blocks.First]
            : throw new InvalidOperationException($"Block {blockIndex} is not loaded; this process holds blocks [{Blocks.First}, {Blocks.End}).");
}
