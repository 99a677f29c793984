namespace Strata.Core.Scenarios;

/// <summary>The request stream of a scenario: a replayed trace or a synthetic generator.</summary>
/// <remarks>
/// Exactly one of two shapes. Trace: <see cref="Trace"/> is set; <see cref="RateRequestsPerSecond"/> optionally
/// rescales its arrivals; lengths come from the trace. Synthetic: <see cref="Trace"/> is <see langword="null"/>;
/// <see cref="RateRequestsPerSecond"/>, <see cref="PromptTokens"/> and <see cref="OutputTokens"/> are set, and so
/// is exactly one of <see cref="DurationSeconds"/> and <see cref="Requests"/>.
/// </remarks>
public sealed record WorkloadSpec
{
    /// <summary>The trace to replay (<c>trace</c>); <see langword="null"/> for a synthetic workload.</summary>
    public TraceSource? Trace { get; init; }

    /// <summary>Mean arrival rate (<c>rateRequestsPerSecond</c>), &gt; 0; for a trace, the rate to rescale it to (null: as recorded).</summary>
    public double? RateRequestsPerSecond { get; init; }

    /// <summary>Length of the arrival window (<c>durationSeconds</c>), &gt; 0; <see langword="null"/> when not limited by time.</summary>
    public double? DurationSeconds { get; init; }

    /// <summary>Number of requests (<c>requests</c>), &gt;= 1; <see langword="null"/> when not limited by count.</summary>
    public int? Requests { get; init; }

    /// <summary>Arrival process of a synthetic workload (<c>arrivals</c>); Poisson by default, unused for a trace.</summary>
    public ArrivalProcess Arrivals { get; init; } = ArrivalProcess.Poisson;

    /// <summary>Squared coefficient of variation of gamma inter-arrival times (<c>burstiness</c>), &gt; 0; 1 by default (as bursty as Poisson).</summary>
    public double Burstiness { get; init; } = 1.0;

    /// <summary>Prompt lengths of a synthetic workload (<c>promptTokens</c>); <see langword="null"/> for a trace.</summary>
    public LengthDistributionSpec? PromptTokens { get; init; }

    /// <summary>Output lengths of a synthetic workload (<c>outputTokens</c>); <see langword="null"/> for a trace.</summary>
    public LengthDistributionSpec? OutputTokens { get; init; }

    /// <summary>Whether the requests come from a trace rather than a generator.</summary>
    public bool IsTrace => Trace is not null;
}
