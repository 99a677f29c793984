namespace Strata.Core.Scenarios;

/// <summary>Relative latency objectives: limits on how much slower a request runs than alone on a reference machine.</summary>
public enum SlowdownSlo
{
    /// <summary>No relative objectives.</summary>
    None,
    /// <summary>
    /// Splitwise's (Patel et al., ISCA 2024): slowdown of TTFT / TBT / E2E against the request alone on a
    /// DGX-A100, at most P50 2x / 1.25x / 1.25x, P90 3x / 1.5x / 1.5x, P99 6x / 5x / 5x.
    /// </summary>
    Splitwise,
}
