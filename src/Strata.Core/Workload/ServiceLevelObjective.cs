namespace Strata.Core.Workload;

/// <summary>Absolute latency targets for a request; a <see langword="null"/> target is not checked.</summary>
/// <param name="TtftSeconds">Longest acceptable time to first token.</param>
/// <param name="TbtSeconds">Longest acceptable gap between consecutive tokens.</param>
/// <param name="E2eSeconds">Longest acceptable time from arrival to last token.</param>
public sealed record ServiceLevelObjective(double? TtftSeconds = null, double? TbtSeconds = null, double? E2eSeconds = null)
{
    /// <summary>Whether the measured latencies meet every target that is set.</summary>
    public bool IsMet(double ttftSeconds, double maxTbtSeconds, double e2eSeconds) =>
        (TtftSeconds is not { } ttft || ttftSeconds <= ttft)
        && (TbtSeconds is not { } tbt || maxTbtSeconds <= tbt)
        && (E2eSeconds is not { } e2e || e2eSeconds <= e2e);
}
