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
    /// <summary>Default autograd/runtime reserve of a PETALS server for BLOOM (<c>server.py</c>: 2 GiB, scaled by <c>hidden_size / 14336</c>).</summary>
    public const double PetalsBloomReserveBytes = 2.0 * (1L << 30);

    /// <summary>The device's whole memory as PETALS reads it (<c>torch.cuda.get_device_properties().total_memory</c>); NaN: <see cref="MemoryBytes"/>.</summary>
    public double DeviceMemoryBytes { get; init; } = double.NaN;

    /// <summary>Memory a PETALS server keeps back for autograd and the runtime before it sizes its blocks (<c>autograd_memory</c> in PETALS' <c>server.py</c>).</summary>
    public double ReserveBytes { get; init; }

    /// <summary>A cap on the blocks PETALS' own rule gives this device (null: none). The paper's scripts cap MIG 1g.10gb at 4: an artefact, opt-in.</summary>
    public int? PetalsBlockCap { get; init; }

    /// <summary>Memory PETALS sizes blocks and cache in: the device's memory less the reserve.</summary>
    public double PetalsUsableMemoryBytes => (double.IsNaN(DeviceMemoryBytes) ? MemoryBytes : DeviceMemoryBytes) - ReserveBytes;

    /// <summary>Prefill time of one block for a prompt of <paramref name="tokens"/> tokens (<c>tau_in_j(l)</c>).</summary>
    public double PrefillSecondsPerBlock(int tokens) => PrefillSecondsPerBlockBase + (PrefillSecondsPerBlockPerToken * tokens);

    /// <summary>PETALS' <c>forward_rps</c>: tokens per second through one block in a 1,024-token forward pass (<c>throughput.py</c>).</summary>
    public double ForwardTokensPerSecond => 1024 / PrefillSecondsPerBlock(1024);
}
