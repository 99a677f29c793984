namespace Strata.Simulation.Cluster;

/// <summary>How a KV cache moves from a prompt machine to a token machine (formulas in docs/simulator.md).</summary>
public enum KvTransferRule
{
    /// <summary>Over all of the machines' network links together (catalog NIC count x per-link speed), one transfer at a time per machine, layer by layer during prefill for long prompts. Strata's default.</summary>
    AllLinks,

    /// <summary>As <see cref="AllLinks"/> but over one link per machine (Strata before issue 18).</summary>
    OneLink,

    /// <summary>SplitwiseSim's rule: after prefill, at a fixed rate (default 200 GiB/s), no contention, no latency, no overlap with prefill.</summary>
    FixedRate,
}
