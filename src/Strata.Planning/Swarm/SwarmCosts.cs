namespace Strata.Planning.Swarm;

/// <summary>The cost model of a swarm: block and cache sizes, software overheads and per-device block times.</summary>
/// <param name="Name">Where the numbers come from (<c>bloom-176b-paper</c>, or <c>kind:model/precision</c> with the kind of performance model, e.g. <c>device-model:llama-2-70b/int4</c>).</param>
/// <param name="LayerCount">Blocks of the model (<c>L</c>).</param>
/// <param name="BlockBytes">Weights of one block (<c>s_m</c>).</param>
/// <param name="CacheBytesPerBlockPerToken">Attention cache of one token in one block.</param>
/// <param name="PerTokenOverheadSeconds">Software overhead of one hop per decode step, added to the RTT (<c>t_cj</c> = RTT + this).</param>
/// <param name="PromptOverheadSecondsBase">Software overhead of one hop for the prefill, constant part.</param>
/// <param name="PromptOverheadSecondsPerToken">Software overhead of one hop for the prefill, per prompt token.</param>
/// <param name="ActivationBytesPerToken">Hidden-state bytes sent per token per hop (0 when the overheads already include transfer).</param>
/// <param name="Devices">Per-device block costs, by device id.</param>
public sealed record SwarmCosts(
    string Name,
    int LayerCount,
    double BlockBytes,
    double CacheBytesPerBlockPerToken,
    double PerTokenOverheadSeconds,
    double PromptOverheadSecondsBase,
    double PromptOverheadSecondsPerToken,
    double ActivationBytesPerToken,
    IReadOnlyDictionary<string, SwarmDeviceCosts> Devices)
{
    /// <summary>Hidden size of the model (0: unknown): PETALS' <c>network_rps</c> divides a server's bandwidth by <c>hidden_size x 16</c> bits.</summary>
    public int HiddenSize { get; init; }

    /// <summary>Query heads per key/value head (1: multi-head attention); PETALS sizes its cache for 16,384 tokens instead of 4,096 when above 1.</summary>
    public int KeyValueGroups { get; init; } = 1;

    /// <summary>Per device, which performance model priced its blocks and the error validation found for it (empty for constants such as the paper's).</summary>
    public IReadOnlyList<string> Pricing { get; init; } = [];

    /// <summary>The costs of <paramref name="deviceId"/>.</summary>
    /// <exception cref="Core.StrataException">The cost model has no numbers for the device.</exception>
    public SwarmDeviceCosts Device(string deviceId) =>
        Devices.TryGetValue(deviceId, out var costs)
            ? costs
            : throw new Core.StrataException($"Cost model '{Name}' has no numbers for device '{deviceId}'; expected one of {string.Join(", ", Devices.Keys)}.");
}
