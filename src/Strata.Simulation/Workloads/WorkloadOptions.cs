using Strata.Core;

using Strata.Core.Scenarios;

namespace Strata.Simulation.Workloads;

/// <summary>What requests a simulation runs: a rescaled trace, or synthetic arrivals and lengths.</summary>
public sealed record WorkloadOptions
{
    /// <summary>Trace name (<c>code</c>, <c>conv</c>) or CSV path: its lengths, and its arrival pattern unless <see cref="Arrivals"/> is set. Null for a synthetic workload.</summary>
    public string? Trace { get; init; }

    /// <summary>Target arrival rate. A trace is compressed or stretched in time to it; synthetic arrivals are drawn at it (default: the trace's own mean rate; required without a trace).</summary>
    public double? RateRequestsPerSecond { get; init; }

    /// <summary>Arrival window. A trace shorter than it (after rescaling) repeats; default: the trace once, or until <see cref="Requests"/>.</summary>
    public double? DurationSeconds { get; init; }

    /// <summary>Stop after this many requests.</summary>
    public int? Requests { get; init; }

    /// <summary>Synthetic arrivals, Poisson or Gamma; null keeps a trace's recorded arrivals (and means Poisson without a trace). With a trace, each request draws its (prompt, output) pair from the trace's rows.</summary>
    public ArrivalProcess? Arrivals { get; init; }

    /// <summary>With <see cref="Arrivals"/> and a trace: draw prompt and output lengths independently from the trace's two columns (SplitwiseSim's <c>generate_trace.py</c>) instead of as (prompt, output) pairs of one row.</summary>
    public bool IndependentLengths { get; init; }

    /// <summary>The arrival window <c>strata simulate</c> and <c>strata provision</c> use when neither <c>--duration</c> nor <c>--requests</c> is given, seconds.</summary>
    /// <remarks>One default for both commands, so a split that <c>provision</c> picks meets the same SLO when <c>simulate</c> runs it.</remarks>
    public const double DefaultDurationSeconds = 120;

    /// <summary>The construction's short name: <c>replay</c>, <c>poisson-paired</c>, <c>poisson-independent</c>, <c>gamma-paired</c>, <c>gamma-independent</c>, or <c>poisson-fixed</c> / <c>gamma-fixed</c> with given length distributions.</summary>
    public string ConstructionName => Trace is not null && Arrivals is null
        ? "replay"
        : $"{(Arrivals == ArrivalProcess.Gamma ? "gamma" : "poisson")}-{(PromptTokens is not null || OutputTokens is not null ? "fixed" : IndependentLengths ? "independent" : "paired")}";

    /// <summary>How the requests are built, in words (printed with every result).</summary>
    public string Construction
    {
        get
        {
            var window = DurationSeconds is { } d ? $"{d:G6} s" : $"{Requests} requests";
            if (Trace is { } trace && Arrivals is null)
            {
                return RateRequestsPerSecond is { } r && DurationSeconds is not null
                    ? $"replay of trace '{trace}': its first round({r:G6} req/s x {window}) rows in time order, arrival pattern stretched to fill the window"
                    : $"replay of trace '{trace}' over {window}, arrival times scaled to {(RateRequestsPerSecond is { } rate ? $"{rate:G6} req/s" : "the trace's own rate")}";
            }

            var rateText = RateRequestsPerSecond is { } rps ? $"{rps:G6} req/s" : $"trace '{Trace}''s mean rate";
            var arrivals = Arrivals == ArrivalProcess.Gamma ? $"Gamma arrivals (cv2 {Burstiness:G3})" : "Poisson arrivals";
            var lengths = PromptTokens is not null || OutputTokens is not null
                ? "lengths from the given distributions"
                : IndependentLengths
                    ? $"prompt and output lengths drawn independently from trace '{Trace ?? "conv"}''s two columns (SplitwiseSim generate_trace.py)"
                    : $"(prompt, output) drawn as one row of trace '{Trace ?? "conv"}'";
            return $"{arrivals} at {rateText} for {window}, seed {Seed}; {lengths}";
        }
    }

    /// <summary>Squared coefficient of variation of Gamma gaps (> 0; 1 is Poisson).</summary>
    public double Burstiness { get; init; } = 1;

    /// <summary>Synthetic prompt lengths (default: sampled from the <c>conv</c> trace).</summary>
    public LengthDistribution? PromptTokens { get; init; }

    /// <summary>Synthetic output lengths (default: sampled from the <c>conv</c> trace).</summary>
    public LengthDistribution? OutputTokens { get; init; }

    /// <summary>Seed of every random choice.</summary>
    public int Seed { get; init; }

    /// <summary>Checks the options are consistent.</summary>
    /// <exception cref="StrataException">A value is out of range or a required one is missing.</exception>
    public WorkloadOptions Validate()
    {
        if (RateRequestsPerSecond is { } rate && !(rate > 0 && double.IsFinite(rate)))
        {
            throw new StrataException($"--rate is {rate}; expected a positive number of requests per second.");
        }

        if (DurationSeconds is { } duration && !(duration > 0 && double.IsFinite(duration)))
        {
            throw new StrataException($"--duration is {duration}; expected a positive number of seconds.");
        }

        if (Requests is <= 0)
        {
            throw new StrataException($"--requests is {Requests}; expected a positive number.");
        }

        if (Trace is null || Arrivals is not null)
        {
            if (RateRequestsPerSecond is null && Trace is null)
            {
                throw new StrataException("A synthetic workload needs --rate (requests per second), or --trace to take the trace's own mean rate.");
            }

            if (DurationSeconds is null && Requests is null)
            {
                throw new StrataException("A synthetic workload needs --duration or --requests to end.");
            }
        }

        if (!(Burstiness > 0 && double.IsFinite(Burstiness)))
        {
            throw new StrataException($"burstiness is {Burstiness}; expected a positive squared coefficient of variation.");
        }

        PromptTokens?.Validate("prompt tokens");
        OutputTokens?.Validate("output tokens");
        return this;
    }
}
