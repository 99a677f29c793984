namespace Strata.Runtime.Engine;

/// <summary>How a <see cref="DecodeBatcher"/> gathers concurrent sessions' decode tokens into one step.</summary>
public sealed record DecodeBatchOptions
{
    /// <summary>Most tokens (one per session) one step runs. Default 16; range 1 to 1,024 (1: every token runs alone).</summary>
    public int MaxBatch { get; init; } = 16;

    /// <summary>
    /// Longest the first token of a step waits for others before the step runs; a step also runs as soon as it is full.
    /// Default 2 ms; range 0 (only batch what is already queued) to 1 s. Tokens that arrive while a step runs join the next
    /// one, so under load the batch fills from the queue and the window matters only when the server is nearly idle.
    /// </summary>
    public TimeSpan BatchWait { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>
    /// Longest a step waits for the sessions of recent steps that are predicted back soon (see
    /// <see cref="Performance.Batching.DecodeBatchRule{TSession}"/>); the step waits at most half the longer of the last step's
    /// run time and the steps those sessions last ran in, and no longer than this. Default 20 ms; range 0 (never wait for them: only <see cref="BatchWait"/>) to 1 s.
    /// </summary>
    public TimeSpan MaxReturnWait { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Checks the ranges.</summary>
    public DecodeBatchOptions Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatch, 1, nameof(MaxBatch));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxBatch, 1024, nameof(MaxBatch));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchWait, TimeSpan.Zero, nameof(BatchWait));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(BatchWait, TimeSpan.FromSeconds(1), nameof(BatchWait));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReturnWait, TimeSpan.Zero, nameof(MaxReturnWait));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxReturnWait, TimeSpan.FromSeconds(1), nameof(MaxReturnWait));
        return this;
    }
}
