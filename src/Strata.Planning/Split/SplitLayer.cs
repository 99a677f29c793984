namespace Strata.Planning.Split;

/// <summary>The costs of one layer (transformer block) of a split instance, for the whole request.</summary>
/// <remarks>All times are seconds and all values finite and >= 0; <see cref="SplitInstance"/> checks them.</remarks>
/// <param name="ClientSeconds">Time to run the layer on the client (c_e).</param>
/// <param name="ServerSeconds">Time to run the layer on the server (c_s).</param>
/// <param name="UploadSeconds">Time to send the layer's input activations client -> server (u), paid when the layer runs on the server after a client layer (or first).</param>
/// <param name="DownloadSeconds">Time to send the layer's input activations server -> client (d), paid when the layer runs on the client after a server layer.</param>
/// <param name="ServerLoad">What the layer costs the server when it runs there (r): FLOPs, seconds or any additive unit.</param>
/// <param name="ClientMemoryBytes">Client memory the layer takes when it runs there (weights and KV cache); 0 when not tracked.</param>
public readonly record struct SplitLayer(
    double ClientSeconds,
    double ServerSeconds,
    double UploadSeconds,
    double DownloadSeconds,
    double ServerLoad,
    double ClientMemoryBytes = 0)
{
    /// <summary>Latency this layer adds when it runs on <paramref name="side"/> after a layer on <paramref name="previous"/>.</summary>
    /// <remarks>The single definition of a step's latency: every planner adds these in layer order, so equal assignments give bit-equal sums.</remarks>
    public double StepSeconds(SplitSide side, SplitSide previous) => side == SplitSide.Client
        ? (previous == SplitSide.Server ? ClientSeconds + DownloadSeconds : ClientSeconds)
        : (previous == SplitSide.Client ? ServerSeconds + UploadSeconds : ServerSeconds);
}
