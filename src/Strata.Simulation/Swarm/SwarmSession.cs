using Strata.Planning.Swarm;

namespace Strata.Simulation.Swarm;

/// <summary>Mutable state of one request in a swarm simulation.</summary>
internal sealed class SwarmSession
{
    public required int Request { get; init; }

    public required int Client { get; init; }

    public required double ArrivalSeconds { get; init; }

    /// <summary>Current path; hops before <see cref="HeldHops"/> hold slots.</summary>
    public List<SwarmHop> Hops { get; set; } = [];

    /// <summary>Hops (a prefix of <see cref="Hops"/>) whose slots are held.</summary>
    public int HeldHops { get; set; }

    /// <summary>Hops from this index on must replay the cached inputs (fresh servers).</summary>
    public int ReplayFrom { get; set; }

    public bool Running { get; set; }

    /// <summary>Whether it is in the simulator's list of routed sessions waiting for their remaining hops' slots (kept with that list).</summary>
    public bool Pending { get; set; }

    public bool Done { get; set; }

    public int Version { get; set; }

    public int Retries { get; set; }

    /// <summary>Tokens already produced when the current phase started.</summary>
    public int TokensBefore { get; set; }

    public double PhaseStartSeconds { get; set; }

    public double PhasePrefillSeconds { get; set; }

    public double StepSeconds { get; set; }

    public double FirstStartSeconds { get; set; } = double.NaN;

    public double FirstTokenSeconds { get; set; } = double.NaN;

    public double CompletionSeconds { get; set; } = double.NaN;

    public string? FailureReason { get; set; }

    /// <summary>The routing policy's cost of the first path it chose (NaN until routed).</summary>
    public double FirstRouteCostSeconds { get; set; } = double.NaN;

    /// <summary>Allocations that failed in a row (PETALS waiting: the retry delay grows with it).</summary>
    public int AllocationFailures { get; set; }

    /// <summary>The hops of the first path it was routed on (empty if never routed).</summary>
    public IReadOnlyList<SwarmHop> FirstHops { get; set; } = [];

    /// <summary>Expected time its slots free (for WS-RR's waits).</summary>
    public double ExpectedReleaseSeconds { get; set; }

    /// <summary>Tokens produced by <paramref name="nowSeconds"/> in the current phase.</summary>
    public int TokensAt(double nowSeconds, int outputTokens)
    {
        if (!Running)
        {
            return TokensBefore;
        }

        var sincePrefill = nowSeconds - PhaseStartSeconds - PhasePrefillSeconds;
        if (sincePrefill < 0)
        {
            return TokensBefore;
        }

        var steps = StepSeconds > 0 ? (int)Math.Floor(sincePrefill / StepSeconds) : outputTokens;
        return Math.Min(outputTokens, TokensBefore + 1 + steps);
    }
}
