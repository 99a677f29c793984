namespace Strata.Runtime.Engine;

/// <summary>One block's keys and values for one session, growing by whole tokens.</summary>
/// <remarks>
/// Not thread-safe: a session runs one forward pass at a time. With a <see cref="KvArrayPool"/>, growing rents the new
/// arrays from the pool and returns the old ones, and <see cref="Release"/> returns both; pooled arrays may hold another
/// cache's floats, so nothing past <see cref="TokenCount"/> is ever shown.
/// </remarks>
public sealed class BlockKvCache
{
    private readonly KvArrayPool? _pool;
    private float[] _keys = [];   // (capacityTokens, kvHeads, headDim)
    private float[] _values = []; // (capacityTokens, kvHeads, headDim)

    /// <summary>Creates an empty cache for block <paramref name="blockIndex"/> with rows of <paramref name="keyValueDimension"/> floats.</summary>
    /// <param name="blockIndex">The block this cache belongs to.</param>
    /// <param name="keyValueDimension">Width of one token's keys.</param>
    /// <param name="pool">Where the cache rents its arrays and returns them; none allocates them, as a local engine does.</param>
    public BlockKvCache(int blockIndex, int keyValueDimension, KvArrayPool? pool = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blockIndex);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keyValueDimension);
        BlockIndex = blockIndex;
        KeyValueDimension = keyValueDimension;
        _pool = pool;
    }

    /// <summary>The block this cache belongs to.</summary>
    public int BlockIndex { get; }

    /// <summary>Width of one token's keys.</summary>
    public int KeyValueDimension { get; }

    /// <summary>Tokens cached so far; the next token sits at this position.</summary>
    public int TokenCount { get; private set; }

    /// <summary>Bytes held by the cached tokens (fp32 keys and values).</summary>
    public long SizeBytes => BytesFor(TokenCount, KeyValueDimension);

    /// <summary>Bytes of the arrays the cache holds now, keys and values, used or not: the memory it really costs.</summary>
    public long CapacityBytes => 2L * _keys.Length * sizeof(float);

    /// <summary>Tokens the cache's arrays have room for.</summary>
    public int CapacityTokens => _keys.Length / KeyValueDimension;

    /// <summary>
    /// The room, in tokens, the cache grows to when it must hold <paramref name="tokens"/> tokens: the session's
    /// <paramref name="expectedTokens"/> when it covers them (a known size, grown to once), else double the current
    /// room (at least 16 tokens and at least <paramref name="tokens"/>), so that growing one token at a time costs
    /// amortized constant copying.
    /// </summary>
    public int GrowthTokens(int tokens, int expectedTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        var most = Array.MaxLength / KeyValueDimension;
        if (expectedTokens >= tokens)
        {
            return Math.Min(expectedTokens, most);
        }

        return (int)Math.Min(most, Math.Max(tokens, Math.Max(16L, 2L * CapacityTokens)));
    }

    /// <summary>
    /// Bytes the cache's arrays hold once <see cref="Reserve"/> has made room for <paramref name="tokens"/> tokens: exact,
    /// never an estimate, so that a server admitting a step counts the memory the step will really hold. With a pool an
    /// array is rented at its size class (at most an eighth more than asked for, see <see cref="KvArrayPool"/>).
    /// </summary>
    public long CapacityBytesFor(int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        var needed = (long)tokens * KeyValueDimension;
        if (needed <= _keys.Length)
        {
            return CapacityBytes;
        }

        var length = _pool is null || needed == 0 ? needed : Math.Min(KvArrayPool.CeilingClass((int)Math.Min(needed, Array.MaxLength)), Array.MaxLength);
        return 2L * length * sizeof(float);
    }

    /// <summary>Bytes of fp32 keys and values of <paramref name="tokens"/> tokens of width <paramref name="keyValueDimension"/>.</summary>
    public static long BytesFor(long tokens, int keyValueDimension) => 2L * tokens * keyValueDimension * sizeof(float);

    /// <summary>The cached keys, <c>(tokens, kvHeads, headDim)</c>.</summary>
    public ReadOnlyMemory<float> Keys => _keys.AsMemory(0, TokenCount * KeyValueDimension);

    /// <summary>The cached values, <c>(tokens, kvHeads, headDim)</c>.</summary>
    public ReadOnlyMemory<float> Values => _values.AsMemory(0, TokenCount * KeyValueDimension);

    /// <summary>Appends the keys and values of <paramref name="tokens"/> new tokens.</summary>
    /// <param name="keys">New keys, <c>(tokens, kvHeads, headDim)</c>.</param>
    /// <param name="values">New values, <c>(tokens, kvHeads, headDim)</c>.</param>
    /// <param name="tokens">Number of new tokens.</param>
    public void Append(ReadOnlySpan<float> keys, ReadOnlySpan<float> values, int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        var length = tokens * KeyValueDimension;
        if (keys.Length < length || values.Length < length)
        {
            throw new ArgumentException($"Appending {tokens} tokens needs {length} keys and values; got {keys.Length} and {values.Length}.", nameof(keys));
        }

        EnsureCapacity(TokenCount + tokens);
        keys[..length].CopyTo(_keys.AsSpan(TokenCount * KeyValueDimension));
        values[..length].CopyTo(_values.AsSpan(TokenCount * KeyValueDimension));
        TokenCount += tokens;
    }

    /// <summary>Makes room for <paramref name="tokens"/> tokens in all, so that appending up to that many reallocates nothing (an import knows the size up front).</summary>
    public void Reserve(int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        if ((long)tokens * KeyValueDimension > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(tokens), $"{tokens} tokens of width {KeyValueDimension} do not fit one array.");
        }

        var needed = tokens * KeyValueDimension;
        if (needed > _keys.Length)
        {
            Grow(needed);
        }
    }

    /// <summary>
    /// Replaces the cache with <paramref name="tokens"/> tokens whose keys and values the caller writes into
    /// <paramref name="keys"/> and <paramref name="values"/>, <c>(tokens, kvHeads, headDim)</c> each (a bulk import
    /// receiving the bytes straight into the cache, with no copy in between).
    /// </summary>
    /// <remarks>
    /// The cache counts the tokens as soon as this returns, holding whatever its memory held before (zeros when
    /// freshly allocated, another session's floats when rented from a pool): the caller must fill both spans, or
    /// <see cref="Truncate"/> to 0 if it cannot.
    /// </remarks>
    public void Overwrite(int tokens, out Span<float> keys, out Span<float> values)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        if ((long)tokens * KeyValueDimension > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(tokens), $"{tokens} tokens of width {KeyValueDimension} do not fit one array.");
        }

        // Every float is about to be overwritten: fresh arrays need neither the old contents copied nor zeroing.
        var needed = tokens * KeyValueDimension;
        if (needed > _keys.Length && _pool is null)
        {
            _keys = GC.AllocateUninitializedArray<float>(needed);
            _values = GC.AllocateUninitializedArray<float>(needed);
        }
        else if (needed > _keys.Length)
        {
            TokenCount = 0; // nothing to keep: the pooled path copies no old tokens
            Grow(needed);
        }

        TokenCount = tokens;
        keys = _keys.AsSpan(0, tokens * KeyValueDimension);
        values = _values.AsSpan(0, tokens * KeyValueDimension);
    }

    /// <summary>Forgets every token from position <paramref name="tokenCount"/> on (to roll back or replay).</summary>
    public void Truncate(int tokenCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokenCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tokenCount, TokenCount);
        TokenCount = tokenCount;
    }

    /// <summary>Empties the cache and gives its arrays back to its pool (to the garbage collector without one); it may be used again after.</summary>
    /// <remarks>The caller must hold the only reference to the cache's memory: no span from <see cref="Keys"/>, <see cref="Values"/> or <see cref="Overwrite"/> may be in use.</remarks>
    public void Release()
    {
        var keys = _keys;
        var values = _values;
        _keys = [];
        _values = [];
        TokenCount = 0;
        _pool?.Return(keys);
        _pool?.Return(values);
    }

    /// <summary>Copies the cache out.</summary>
    public KvCacheSnapshot Export() =>
        new(BlockIndex, TokenCount, KeyValueDimension, Keys.ToArray(), Values.ToArray());

    /// <summary>Replaces the cache with <paramref name="snapshot"/>.</summary>
    /// <exception cref="ArgumentException">The snapshot is for another block or another width, or its arrays are short.</exception>
    public void Import(KvCacheSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.BlockIndex != BlockIndex || snapshot.KeyValueDimension != KeyValueDimension)
        {
            throw new ArgumentException(
                $"KV snapshot of block {snapshot.BlockIndex} with width {snapshot.KeyValueDimension} does not fit block {BlockIndex} with width {KeyValueDimension}.",
                nameof(snapshot));
        }

        var length = snapshot.TokenCount * KeyValueDimension;
        if (snapshot.TokenCount < 0 || snapshot.Keys.Length != length || snapshot.Values.Length != length)
        {
            throw new ArgumentException(
                $"KV snapshot of block {BlockIndex} claims {snapshot.TokenCount} tokens ({length} floats) but holds {snapshot.Keys.Length} keys and {snapshot.Values.Length} values.",
                nameof(snapshot));
        }

        TokenCount = 0;
        Append(snapshot.Keys, snapshot.Values, snapshot.TokenCount);
    }

    private void EnsureCapacity(int tokens)
    {
        var needed = tokens * KeyValueDimension;
        if (needed <= _keys.Length)
        {
            return;
        }

        Grow(GrowthTokens(tokens, expectedTokens: 0) * KeyValueDimension);
    }

    // Moves the cached tokens into arrays of at least length floats: resized without a pool (as always), rented from
    // the pool with one, the old arrays going back to it. Only the cached tokens are copied; the rest is never shown.
    private void Grow(int length)
    {
        if (_pool is null)
        {
            Array.Resize(ref _keys, length);
            Array.Resize(ref _values, length);
            return;
        }

        // Only arrays of the class a fresh one would have: the size CapacityBytesFor promised admission, exactly.
        var used = TokenCount * KeyValueDimension;
        var exact = (int)Math.Min(KvArrayPool.CeilingClass(length), Array.MaxLength);
        var keys = _pool.Rent(length, exact);
        var values = _pool.Rent(length, exact);
        _keys.AsSpan(0, used).CopyTo(keys);
        _values.AsSpan(0, used).CopyTo(values);
        _pool.Return(_keys);
        _pool.Return(_values);
        _keys = keys;
        _values = values;
    }
}
