using Strata.Core;

using Strata.Core.Scenarios;

namespace Strata.Simulation.Workloads;

/// <summary>What requests a simulation runs: a rescaled trace, or synthetic arrivals and lengths.</summary>
public sealed record WorkloadOptions
{
    /// <summary>Trace name (<c>code</c>, <c>conv</c>) or CSV path: its lengths, and its arrival pattern unless <see cref="Arrivals"/> is set. Null for a synthetic workload.</summary>
    public string? Trace { get; init; }

    /// <summary>Target arrival rate. A trace is compressed or stretched in time to it (default: the trace's own); required for synthetic.</summary>
    public double? RateRequestsPerSecond { get; init; }

    /// <summary>Arrival window. A trace shorter than it (after rescaling) repeats; default: the trace once, or until <see cref="Requests"/>.</summary>
    public double? DurationSeconds { get; init; }

    /// <summary>Stop after this many requests.</summary>
    public int? Requests { get; init; }

    /// <summary>Synthetic arrivals, Poisson or Gamma; null keeps a trace's recorded arrivals (and means Poisson without a trace). With a trace, each request draws its (prompt, output) pair from the trace's rows.</summary>
    public ArrivalProcess? Arrivals { get; init; }

    /// <summary>With <see cref="Arrivals"/> and a trace: draw prompt and output lengths independently from the trace's two columns (SplitwiseSim's <c>generate_trace.py</c>) instead of as (prompt, output) pairs of one row.</summary>
    public bool IndependentLengths { get; init; }

    /// <summary>How the requests are built, in words (printed with every result).</summary>
    public string Construction => Trace is { } trace && Arrivals is null
        ? (RateRequestsPerSecond is not null && DurationSeconds is not null
            ? $"trace '{trace}' replayed: its first rate x duration rows in time order, arrival pattern stretched to the window"
            : $"trace '{trace}' replayed, arrival times scaled to the rate")
        : $"{(Arrivals == ArrivalProcess.Gamma ? $"Gamma (cv2 {Burstiness:G3})" : "Poisson")} arrivals, seed {Seed}; lengths {(PromptTokens is not null || OutputTokens is not null ? "from the given distributions" : IndependentLengths ? $"drawn independently from trace '{Trace ?? "conv"}' columns (SplitwiseSim generate_trace.py)" : $"drawn as (prompt, output) rows of trace '{Trace ?? "conv"}'")}";

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
            if (RateRequestsPerSecond is null)
            {
                throw new StrataException("A synthetic workload needs --rate (requests per second).");
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
