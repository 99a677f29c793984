namespace Strata.Simulation.Cluster;

/// <summary>One Splitwise Table VI check: a percentile of a slowdown against its limit.</summary>
/// <param name="Metric">ttft, tbt or e2e.</param>
/// <param name="Percentile">50, 90 or 99.</param>
/// <param name="Slowdown">Measured slowdown at that percentile (latency over the same request alone on a DGX-A100).</param>
/// <param name="Limit">The paper's limit.</param>
public sealed record SlowdownCheck(string Metric, int Percentile, double Slowdown, double Limit)
{
    /// <summary>Whether the slowdown is within its limit.</summary>
    public bool Met => Slowdown <= Limit;

    /// <summary>Table VI: TTFT 2x/3x/6x, TBT and E2E 1.25x/1.5x/5x at P50/P90/P99.</summary>
    public static IReadOnlyList<(string Metric, int Percentile, double Limit)> SplitwiseLimits { get; } =
    [
        ("ttft", 50, 2), ("ttft", 90, 3), ("ttft", 99, 6),
        ("tbt", 50, 1.25), ("tbt", 90, 1.5), ("tbt", 99, 5),
        ("e2e", 50, 1.25), ("e2e", 90, 1.5), ("e2e", 99, 5),
    ];
}
