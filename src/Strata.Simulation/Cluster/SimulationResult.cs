using Strata.Simulation.Metrics;

namespace Strata.Simulation.Cluster;

/// <summary>What a cluster simulation measured.</summary>
public sealed record SimulationResult
{
    /// <summary>Design simulated.</summary>
    public required string Design { get; init; }

    /// <summary>Cluster-level scheduler used.</summary>
    public required string Scheduler { get; init; }

    /// <summary>Requests offered.</summary>
    public required long Requests { get; init; }

    /// <summary>Requests that produced every output token.</summary>
    public required long Completed { get; init; }

    /// <summary>Requests that could not complete, by reason (each request is counted once, here or in <see cref="Completed"/>).</summary>
    public required IReadOnlyDictionary<string, long> Failed { get; init; }

    /// <summary>Time to first token.</summary>
    public required LatencySummary Ttft { get; init; }

    /// <summary>Every gap between consecutive tokens of a request.</summary>
    public required LatencySummary Tbt { get; init; }

    /// <summary>Time per output token of each request: (E2E - TTFT) / (output - 1).</summary>
    public required LatencySummary Tpot { get; init; }

    /// <summary>Arrival to last token.</summary>
    public required LatencySummary E2e { get; init; }

    /// <summary>Arrival to the start of the request's prefill.</summary>
    public required LatencySummary Queueing { get; init; }

    /// <summary>Exposed KV-transfer time of requests whose phases ran on different machines.</summary>
    public required LatencySummary KvTransfer { get; init; }

    /// <summary>Share of completed-or-failed requests that met the absolute SLO (TTFT, TPOT, E2E).</summary>
    public required double SloAttainment { get; init; }

    /// <summary>Requests per second that completed and met the absolute SLO, over the same window as <see cref="ThroughputRequestsPerSecond"/> (so never above it).</summary>
    public required double GoodputRequestsPerSecond { get; init; }

    /// <summary>The nine Splitwise Table VI checks (slowdown vs the request alone on a DGX-A100).</summary>
    public required IReadOnlyList<SlowdownCheck> SplitwiseSlo { get; init; }

    /// <summary>Completed requests per second of simulated time (arrival window to last completion).</summary>
    public required double ThroughputRequestsPerSecond { get; init; }

    /// <summary>Output tokens per second of simulated time.</summary>
    public required double ThroughputTokensPerSecond { get; init; }

    /// <summary>Mean share of simulated time the machines were computing.</summary>
    public required double MachineUtilization { get; init; }

    /// <summary>Machines in the cluster.</summary>
    public required int Machines { get; init; }

    /// <summary>Price of the cluster, USD per hour.</summary>
    public required double CostPerHour { get; init; }

    /// <summary>Provisioned power of the cluster.</summary>
    public required double PowerWatts { get; init; }

    /// <summary>Simulated time from the first arrival to the last event.</summary>
    public required double SimulatedSeconds { get; init; }

    /// <summary>Iterations (forward passes) run over all machines.</summary>
    public required long Iterations { get; init; }

    /// <summary>Preemptions (recompute) over all requests.</summary>
    public required long Preemptions { get; init; }

    /// <summary>KV-cache memory in use over all machines at the end (0 when nothing leaked).</summary>
    public required long KvBlocksInUseAtEnd { get; init; }

    /// <summary>Every request's outcome, when asked for (<see cref="ClusterSimulationOptions.KeepRequestOutcomes"/>).</summary>
    public IReadOnlyList<RequestOutcome>? Outcomes { get; init; }

    /// <summary>Every iteration, when asked for (<see cref="ClusterSimulationOptions.KeepIterations"/>).</summary>
    public IReadOnlyList<IterationRecord>? IterationRecords { get; init; }

    /// <summary>Wall-clock time of the run.</summary>
    public double WallSeconds { get; init; }

    /// <summary>Whether all nine Splitwise checks hold.</summary>
    public bool MeetsSplitwiseSlo => SplitwiseSlo.All(check => check.Met);
}
