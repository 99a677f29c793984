using Strata.Core;

namespace Strata.Simulation.Cluster;

/// <summary>Machine-level scheduling and accounting settings of a cluster simulation; every default is documented.</summary>
public sealed record ClusterSimulationOptions
{
    /// <summary>Token budget: most tokens one iteration processes (vLLM's <c>max_num_batched_tokens</c>; Splitwise batches prompts up to 2,048). A larger single prompt runs alone.</summary>
    public int MaxBatchTokens { get; init; } = 2048;

    /// <summary>Most sequences one iteration holds (vLLM's <c>max_num_seqs</c> is 256).</summary>
    public int MaxBatchRequests { get; init; } = 256;

    /// <summary>Tokens per KV-cache block (vLLM's page size).</summary>
    public int KvBlockTokens { get; init; } = 16;

    /// <summary>Share of device memory usable for weights and KV cache.</summary>
    public double MemoryUtilization { get; init; } = 0.9;

    /// <summary>Prompts at least this long send their KV cache layer by layer while prefill runs (only the last layer's transfer is exposed); shorter ones after prefill (Splitwise: about 512 on H100).</summary>
    public int LayerwiseTransferMinPromptTokens { get; init; } = 512;

    /// <summary>How each iteration's batch is formed (default <see cref="BatchingPolicy.Mixed"/>).</summary>
    public BatchingPolicy Batching { get; init; } = BatchingPolicy.Mixed;

    /// <summary>How KV caches move between phase-split machines (default <see cref="KvTransferRule.AllLinks"/>).</summary>
    public KvTransferRule KvTransfer { get; init; } = KvTransferRule.AllLinks;

    /// <summary>Rate of a <see cref="KvTransferRule.FixedRate"/> transfer; default SplitwiseSim's 200 GiB/s.</summary>
    public double KvTransferBytesPerSecond { get; init; } = 200.0 * (1L << 30);

    /// <summary>Keep every request's outcome in the result (memory grows with the run; for tests, plots and small runs).</summary>
    public bool KeepRequestOutcomes { get; init; }

    /// <summary>Keep every iteration's record in the result (for <c>--iterations-csv</c>; memory grows with the run).</summary>
    public bool KeepIterations { get; init; }

    /// <summary>Checks every setting is in range.</summary>
    /// <exception cref="StrataException">A setting is out of range.</exception>
    public ClusterSimulationOptions Validate()
    {
        if (MaxBatchTokens < 1 || MaxBatchRequests < 1 || KvBlockTokens < 1 || LayerwiseTransferMinPromptTokens < 0)
        {
            throw new StrataException($"Simulation options out of range: max batch tokens {MaxBatchTokens}, max batch requests {MaxBatchRequests}, KV block tokens {KvBlockTokens} must be >= 1.");
        }

        if (!(KvTransferBytesPerSecond > 0 && double.IsFinite(KvTransferBytesPerSecond)))
        {
            throw new StrataException($"KV transfer rate is {KvTransferBytesPerSecond} B/s; expected a positive number.");
        }

        if (!(MemoryUtilization is > 0 and <= 1))
        {
            throw new StrataException($"Memory utilisation is {MemoryUtilization}; expected a fraction in (0, 1].");
        }

        return this;
    }
}
