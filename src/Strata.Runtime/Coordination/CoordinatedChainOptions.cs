namespace Strata.Runtime.Coordination;

/// <summary>How a client routes its generations through the coordinator's swarm.</summary>
public sealed record CoordinatedChainOptions
{
    /// <summary>Prefill on prefill-role servers, then move every block's KV cache to decode-role servers and decode there.</summary>
    public bool PhaseSplit { get; init; }

    /// <summary>
    /// Phase split: run each prefill hop one block per call and start moving a block's KV cache to its decode server as
    /// soon as that block is done, while the next block computes (layer by layer). False moves a hop's blocks after the
    /// whole hop. Default true.
    /// </summary>
    public bool StreamKvByBlock { get; init; } = true;

    /// <summary>Blocks the client runs itself between server hops (the split path), or null for none; the client's model must hold them.</summary>
    public (int FirstBlock, int BlockCount)? ClientBlocks { get; init; }

    /// <summary>Most failovers (re-routes after a dead or full server) per session before giving up. Default 8.</summary>
    public int MaxFailovers { get; init; } = 8;

    /// <summary>First wait when every route is full (RESOURCE_EXHAUSTED), doubled on each retry. Default 50 ms.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Longest wait between retries when every route is full. Default 2 s.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Deadline of each call to a block server. Default 60 s.</summary>
    public TimeSpan CallDeadline { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The planner's routing policy the coordinator routes with (<c>petals</c>, <c>ws-rr</c>, <c>shortest-path</c>); null: its default, WS-RR.</summary>
    public string? Routing { get; init; }

    /// <summary>Output tokens a session expects (its first token included), which the policies price the whole request with; 0: unknown (one).</summary>
    public int ExpectedOutputTokens { get; init; }

    /// <summary>Measure the round trip to each server (once per chain) and send them with every route request (default true); false: the coordinator prices each server with the delay it announced.</summary>
    public bool MeasureRtts { get; init; } = true;

    /// <summary>Checks the ranges.</summary>
    public CoordinatedChainOptions Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(MaxFailovers);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(InitialBackoff, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBackoff, InitialBackoff);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(CallDeadline, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegative(ExpectedOutputTokens);
        if (ClientBlocks is { } blocks)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(blocks.FirstBlock);
            ArgumentOutOfRangeException.ThrowIfNegative(blocks.BlockCount);
        }

        return this;
    }
}
