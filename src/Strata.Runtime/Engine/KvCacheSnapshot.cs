namespace Strata.Runtime.Engine;

/// <summary>A copy of one block's KV cache for one session: what phase-split prefill hands to a decode server.</summary>
/// <param name="BlockIndex">The block the cache belongs to.</param>
/// <param name="TokenCount">Cached tokens.</param>
/// <param name="KeyValueDimension">Width of one token's keys (KV heads times head width).</param>
/// <param name="Keys">Rotated keys, <c>(tokens, kvHeads, headDim)</c>.</param>
/// <param name="Values">Values, <c>(tokens, kvHeads, headDim)</c>.</param>
public sealed record KvCacheSnapshot(int BlockIndex, int TokenCount, int KeyValueDimension, float[] Keys, float[] Values)
{
    /// <summary>Bytes the snapshot holds in fp32.</summary>
    public long SizeBytes => BlockKvCache.BytesFor(TokenCount, KeyValueDimension);
}
