namespace Strata.Simulation.Metrics;

/// <summary>The distribution of one latency metric, in seconds.</summary>
/// <param name="Count">Values recorded.</param>
/// <param name="P50">Median.</param>
/// <param name="P90">90th percentile.</param>
/// <param name="P99">99th percentile.</param>
/// <param name="Mean">Mean.</param>
/// <param name="Max">Largest value.</param>
/// <param name="Exact">Whether the percentiles are exact (else within 0.5% relative, from the sketch).</param>
public sealed record LatencySummary(long Count, double P50, double P90, double P99, double Mean, double Max, bool Exact);
