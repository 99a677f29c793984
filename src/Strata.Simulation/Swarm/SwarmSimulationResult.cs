using Strata.Planning.Swarm;

namespace Strata.Simulation.Swarm;

/// <summary>Outcome of a swarm simulation: every request, and the aggregates the CLI prints.</summary>
/// <param name="Outcomes">Every request, in arrival order.</param>
/// <param name="SlotsInUseAtEnd">Cache slots still held when the event queue drained (0 unless there is a bug).</param>
/// <param name="Replans">Times the placement changed during the run (churn reactions).</param>
public sealed record SwarmSimulationResult(IReadOnlyList<SwarmRequestOutcome> Outcomes, long SlotsInUseAtEnd, int Replans)
{
    /// <summary>The hops of each request's first path (in arrival order; empty if never routed).</summary>
    public IReadOnlyList<IReadOnlyList<SwarmHop>> FirstRoutes { get; init; } = [];

    /// <summary>Requests that completed.</summary>
    public int Completed => Outcomes.Count(o => o.Completed);

    /// <summary>Requests that failed (each with a reason).</summary>
    public int Failed => Outcomes.Count - Completed;

    /// <summary>Mean per-token time of completed requests (NaN if none).</summary>
    public double MeanPerTokenSeconds => Mean(o => o.PerTokenSeconds);

    /// <summary>Mean time to first token of completed requests.</summary>
    public double MeanTtftSeconds => Mean(o => o.TtftSeconds);

    /// <summary>Mean wait for cache slots of completed requests.</summary>
    public double MeanWaitSeconds => Mean(o => o.WaitSeconds);

    /// <summary>99th percentile (nearest rank) of the per-token time of completed requests.</summary>
    public double P99PerTokenSeconds
    {
        get
        {
            var values = Outcomes.Where(o => o.Completed).Select(o => o.PerTokenSeconds).Order().ToArray();
            return values.Length == 0 ? double.NaN : values[Math.Clamp((int)Math.Ceiling(0.99 * values.Length) - 1, 0, values.Length - 1)];
        }
    }

    private double Mean(Func<SwarmRequestOutcome, double> value)
    {
        var completed = Outcomes.Where(o => o.Completed).ToArray();
        return completed.Length == 0 ? double.NaN : completed.Average(value);
    }
}
