namespace Strata.Planning.Swarm;

/// <summary>What one block costs on one kind of server: time per token and usable memory.</summary>
/// <param name="DeviceId">The catalog device id.</param>
/// <param name="MemoryBytes">Memory usable for blocks and cache (<c>M_j</c>).</param>
/// <param name="DecodeSecondsPerBlock">Decode time of one token through one block (<c>tau_j</c>).</param>
/// <param name="PrefillSecondsPerBlockBase">Prefill time of one block, constant part.</param>
/// <param name="PrefillSecondsPerBlockPerToken">Prefill time of one block, per prompt token.</param>
public sealed record SwarmDeviceCosts(
    string DeviceId,
    double MemoryBytes,
    double DecodeSecondsPerBlock,
    double PrefillSecondsPerBlockBase,
    double PrefillSecondsPerBlockPerToken)
{
    /// <summary>Prefill time of one block for a prompt of <paramref name="tokens"/> tokens (<c>tau_in_j(l)</c>).</summary>
    public double PrefillSecondsPerBlock(int tokens) => PrefillSecondsPerBlockBase + (PrefillSecondsPerBlockPerToken * tokens);
}
