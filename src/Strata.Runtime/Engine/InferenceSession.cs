namespace Strata.Runtime.Engine;

/// <summary>One generation's state on one process: a KV cache for each block it has run.</summary>
/// <remarks>
/// A block server keeps caches only for the blocks it hosts, so caches are created on first use.
/// Not thread-safe: run one forward pass of a session at a time.
/// </remarks>
public sealed class InferenceSession
{
    private readonly BlockKvCache?[] _caches;
    private readonly int _keyValueDimension;
    private readonly KvArrayPool? _pool;

    /// <summary>Creates an empty session for a model of <paramref name="config"/>'s shape.</summary>
    /// <param name="config">The model's shape.</param>
    /// <param name="pool">Where the caches rent and return their arrays (a block server's); none allocates them.</param>
    public InferenceSession(LlamaConfig config, KvArrayPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        _caches = new BlockKvCache?[config.LayerCount];
        _keyValueDimension = config.KeyValueDimension;
        _pool = pool;
    }

    /// <summary>Number of blocks the model has.</summary>
    public int LayerCount => _caches.Length;

    /// <summary>Bytes held by every cache of the session.</summary>
    public long KvSizeBytes => _caches.Sum(c => c?.SizeBytes ?? 0);

    /// <summary>Bytes of every cache's arrays, used or not (see <see cref="BlockKvCache.CapacityBytes"/>).</summary>
    public long KvCapacityBytes => _caches.Sum(c => c?.CapacityBytes ?? 0);

    /// <summary>The cache of block <paramref name="blockIndex"/>, created empty on first use.</summary>
    public BlockKvCache Cache(int blockIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blockIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(blockIndex, _caches.Length);
        return _caches[blockIndex] ??= new BlockKvCache(blockIndex, _keyValueDimension, _pool);
    }

    /// <summary>Tokens cached by block <paramref name="blockIndex"/> (0 if it has not run).</summary>
    public int TokenCount(int blockIndex) => _caches[blockIndex]?.TokenCount ?? 0;

    /// <summary>Rolls every cache back to its first <paramref name="tokenCount"/> tokens.</summary>
    public void Truncate(int tokenCount) => Truncate(tokenCount, 0, _caches.Length);

    /// <summary>Forgets every token from position <paramref name="tokenCount"/> on in blocks <c>[firstBlock, firstBlock + blockCount)</c> only.</summary>
    public void Truncate(int tokenCount, int firstBlock, int blockCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstBlock);
        ArgumentOutOfRangeException.ThrowIfNegative(blockCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstBlock + blockCount, _caches.Length, nameof(blockCount));
        for (var block = firstBlock; block < firstBlock + blockCount; block++)
        {
            if (_caches[block] is { } cache && cache.TokenCount > tokenCount)
            {
                cache.Truncate(tokenCount);
            }
        }
    }

    /// <summary>Empties every cache and gives its arrays back to the pool (see <see cref="BlockKvCache.Release"/>); the session may be used again after.</summary>
    public void Release()
    {
        foreach (var cache in _caches)
        {
            cache?.Release();
        }
    }

    /// <summary>Copies block <paramref name="blockIndex"/>'s cache out.</summary>
    public KvCacheSnapshot Export(int blockIndex) => Cache(blockIndex).Export();

    /// <summary>Replaces the cache of the snapshot's block with the snapshot.</summary>
    public void Import(KvCacheSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Cache(snapshot.BlockIndex).Import(snapshot);
    }
}
