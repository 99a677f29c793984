namespace Strata.Runtime.Weights;

/// <summary>The fp32 weights a process holds: a contiguous range of blocks, and the embedding and head when it needs them.</summary>
public sealed class LlamaWeights
{
    private readonly BlockWeights[] _blocks;

    /// <summary>Creates weights holding blocks <c>[firstBlock, firstBlock + blocks.Count)</c>.</summary>
    /// <param name="firstBlock">Index of the first block held.</param>
    /// <param name="blocks">The blocks held, in order.</param>
    /// <param name="embedding"><c>model.embed_tokens.weight</c>, <c>(vocab, hidden)</c>, or null when not held.</param>
    /// <param name="finalNorm"><c>model.norm.weight</c>, <c>(hidden)</c>, or null when not held.</param>
    /// <param name="lmHead"><c>lm_head.weight</c>, <c>(vocab, hidden)</c> (the embedding itself when tied), or null when not held.</param>
    public LlamaWeights(int firstBlock, IReadOnlyList<BlockWeights> blocks, float[]? embedding, float[]? finalNorm, float[]? lmHead)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstBlock);
        ArgumentNullException.ThrowIfNull(blocks);
        FirstBlock = firstBlock;
        _blocks = [.. blocks];
        Embedding = embedding;
        FinalNorm = finalNorm;
        LmHead = lmHead;
    }

    /// <summary>Index of the first block held.</summary>
    public int FirstBlock { get; }

    /// <summary>Number of blocks held.</summary>
    public int BlockCount => _blocks.Length;

    /// <summary>The token embedding, <c>(vocab, hidden)</c>, when held.</summary>
    public float[]? Embedding { get; }

    /// <summary>The final RMSNorm gain, <c>(hidden)</c>, when held.</summary>
    public float[]? FinalNorm { get; }

    /// <summary>The LM head, <c>(vocab, hidden)</c>, when held; the same array as <see cref="Embedding"/> when tied.</summary>
    public float[]? LmHead { get; }

    /// <summary>Whether block <paramref name="blockIndex"/> is held.</summary>
    public bool HoldsBlock(int blockIndex) => blockIndex >= FirstBlock && blockIndex < FirstBlock + _blocks.Length;

    /// <summary>The weights of block <paramref name="blockIndex"/>.</summary>
    /// <exception cref="InvalidOperationException">The block is not held by this process.</exception>
    public BlockWeights Block(int blockIndex) =>
        HoldsBlock(blockIndex)
            ? _blocks[blockIndex - FirstBlock]
            : throw new InvalidOperationException($"Block {blockIndex} is not loaded; this process holds blocks [{FirstBlock}, {FirstBlock + _blocks.Length}).");
}
