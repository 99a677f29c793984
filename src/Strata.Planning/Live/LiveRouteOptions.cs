namespace Strata.Planning.Live;

/// <summary>The defaults a live snapshot fills unknowns with, and how load prices a server.</summary>
public sealed record LiveRouteOptions
{
    /// <summary>Software cost of one hop per decode step, seconds (the snapshot's <c>t_cj - RTT</c>). Default 1 ms.</summary>
    public double HopOverheadSeconds { get; init; } = 1e-3;

    /// <summary>Decode seconds per block per token of a server that reported none. Default 1 ms.</summary>
    public double DefaultDecodeSecondsPerBlock { get; init; } = 1e-3;

    /// <summary>
    /// Whether a server's block time grows with its load: <c>tau_j (1 + open sessions)</c>. True for the CPU runtime, whose
    /// servers run their sessions' steps on shared cores, one after another; false prices every server idle (the swarm
    /// simulator's time model, which has no compute contention).
    /// </summary>
    public bool LoadScalesCompute { get; init; } = true;

    /// <summary>Checks the ranges.</summary>
    public LiveRouteOptions Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(HopOverheadSeconds);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(DefaultDecodeSecondsPerBlock);
        return this;
    }
}
