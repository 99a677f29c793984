namespace Strata.Runtime.Coordination;

/// <summary>How the split path chooses the blocks a client runs itself (SplitLLM's DP over measured costs).</summary>
public sealed record SplitPathOptions
{
    /// <summary>The latency SLA as a multiple of the all-server plan's latency: the DP takes client blocks to cut server load while staying under it. Default 1.5; at least 1.</summary>
    public double SlaFactor { get; init; } = 1.5;

    /// <summary>Client memory for its blocks (weights plus KV cache), bytes; null for no limit.</summary>
    public double? ClientMemoryBudgetBytes { get; init; }

    /// <summary>Checks the ranges.</summary>
    public SplitPathOptions Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(SlaFactor, 1.0);
        if (ClientMemoryBudgetBytes is { } budget)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(budget);
        }

        return this;
    }
}
