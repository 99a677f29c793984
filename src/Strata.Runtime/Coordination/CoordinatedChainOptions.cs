using Strata.Core.Placement;

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
    public BlockRange? ClientBlocks { get; init; }

    /// <summary>Most failovers (re-routes after a dead, failing or lying server) per session before giving up. Default 8. A full server's refusal is not a failover: the session waits (see <see cref="MaxBusyWait"/>).</summary>
    public int MaxFailovers { get; init; } = 8;

    /// <summary>First wait when every server that could serve is full (RESOURCE_EXHAUSTED), doubled on each refusal in a row and reset by a step that runs. Default 50 ms.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Longest wait between retries when every route is full. Default 2 s.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Longest a session waits in all for full servers to free memory before it gives up with an error (a caller's
    /// cancellation, such as the gateway's request deadline, ends the wait sooner). Full servers are a reason to wait, not
    /// to fail: a burst larger than the swarm's KV budget is served in turns. Default 5 minutes; range positive.
    /// </summary>
    public TimeSpan MaxBusyWait { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Deadline of each call to a block server. Default 60 s.</summary>
    public TimeSpan CallDeadline { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The planner's routing policy the coordinator routes with (<c>petals</c>, <c>ws-rr</c>, <c>shortest-path</c>); null: its default, WS-RR.</summary>
    public string? Routing { get; init; }

    /// <summary>Output tokens a session expects (its first token included), which the policies price the whole request with; 0: unknown (one).</summary>
    public int ExpectedOutputTokens { get; init; }

    /// <summary>Measure the round trip to each server (once per chain) and send them with every route request (default true); false: the coordinator prices each server with the delay it announced.</summary>
    public bool MeasureRtts { get; init; } = true;

    /// <summary>
    /// The per-token RMS range a true hidden state can have at each block boundary; a server's reply outside it is
    /// rejected (a failed hop). Null: the generic envelope (finite, not all-zero, RMS at most 1e6).
    /// </summary>
    public Verification.ActivationEnvelope? Envelope { get; init; }

    /// <summary>
    /// Probability that a server's step is also run on a second replica of the same blocks (a spot check; on a mismatch
    /// a third replica or the client's own weights decide, and the liar is reported to the coordinator). Default 0.05;
    /// range [0, 1]; 0 turns spot checks off. See docs/security.md for the detection probability.
    /// </summary>
    public double VerifyFraction { get; init; } = DefaultVerifyFraction;

    /// <summary>The default of <see cref="VerifyFraction"/>.</summary>
    public const double DefaultVerifyFraction = 0.05;

    /// <summary>
    /// Seed of the spot-check draws, or null (the default) for a seed from the system's cryptographic generator: a
    /// server that could predict which steps are checked would lie only on the others. Give one to reproduce a run.
    /// </summary>
    public ulong? VerifySeed { get; init; }

    /// <summary>
    /// Largest RMS difference between two replicas' outputs for a token, relative to the token's RMS, that still counts as
    /// agreement. Default 1e-4: the engine is bit-identical across chunking and thread counts, so honest replicas on one
    /// build agree exactly; the slack covers builds whose SIMD paths round differently.
    /// </summary>
    public double VerifyTolerance { get; init; } = 1e-4;

    /// <summary>Checks the ranges.</summary>
    public CoordinatedChainOptions Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(MaxFailovers);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(InitialBackoff, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBackoff, InitialBackoff);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MaxBusyWait, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(CallDeadline, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegative(ExpectedOutputTokens);

        if (!(VerifyFraction >= 0 && VerifyFraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(VerifyFraction), VerifyFraction, "The spot-check fraction must be in [0, 1].");
        }

        if (!(VerifyTolerance >= 0) || double.IsInfinity(VerifyTolerance))
        {
            throw new ArgumentOutOfRangeException(nameof(VerifyTolerance), VerifyTolerance, "The spot-check tolerance must be finite and >= 0.");
        }
        return this;
    }
}
