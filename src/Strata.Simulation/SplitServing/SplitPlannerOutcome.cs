using Strata.Simulation.Metrics;

namespace Strata.Simulation.SplitServing;

/// <summary>What one split planner gave the server: load per request, SLA attainment at the study rate, the highest rate it sustains.</summary>
public sealed record SplitPlannerOutcome
{
    /// <summary>The planner's name.</summary>
    public required string Planner { get; init; }

    /// <summary>Mean server FLOPs per request.</summary>
    public required double MeanServerFlopsPerRequest { get; init; }

    /// <summary>Mean server seconds per request (alone on the server).</summary>
    public required double MeanServerSecondsPerRequest { get; init; }

    /// <summary>Server FLOPs relative to running every request all on the server (1 = no saving).</summary>
    public required double ServerLoadVsAllServer { get; init; }

    /// <summary>Share of requests within their SLA at the study rate.</summary>
    public required double SlaAttainment { get; init; }

    /// <summary>End-to-end latency at the study rate.</summary>
    public required LatencySummary E2e { get; init; }

    /// <summary>Highest arrival rate, at most the server capacity, with SLA attainment at or above the target; infinity when the server does no work.</summary>
    public required double MaxRateRequestsPerSecond { get; init; }

    /// <summary>Requests for which no split met the SLA; they run all on the server.</summary>
    public required int InfeasiblePlans { get; init; }

    /// <summary>The split per client population.</summary>
    public required IReadOnlyList<SplitClientOutcome> Clients { get; init; }
}
