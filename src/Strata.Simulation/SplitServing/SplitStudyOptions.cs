using Strata.Core;
using Strata.Core.Hardware;
using Strata.Core.Models;
using Strata.Core.Scenarios;
using Strata.Core.Workload;
using Strata.Simulation.Workloads;

namespace Strata.Simulation.SplitServing;

/// <summary>What <see cref="SplitStudy"/> compares: one server, a population of clients, a request mix, the planners.</summary>
public sealed record SplitStudyOptions
{
    /// <summary>The model every request runs; each transformer block is one split layer.</summary>
    public required ModelArchitecture Model { get; init; }

    /// <summary>The server device (the split costs are for one request alone on it).</summary>
    public required DeviceSpec ServerDevice { get; init; }

    /// <summary>Client populations: device, link and share of the requests (shares sum to 1).</summary>
    public required IReadOnlyList<ScenarioClient> Clients { get; init; }

    /// <summary>Arrivals and lengths at the study's base rate (a trace, or Poisson with length distributions).</summary>
    public required WorkloadOptions Workload { get; init; }

    /// <summary>
    /// Latency objective of every request: its SLA is <c>e2eSeconds</c> when set, else
    /// <c>ttftSeconds + (output - 1) x tbtSeconds</c> (default TTFT 2 s, TBT 200 ms).
    /// </summary>
    public ServiceLevelObjective Slo { get; init; } = new(TtftSeconds: 2.0, TbtSeconds: 0.2);

    /// <summary>Planners to compare, by name (<c>dp</c>, <c>greedy</c>, <c>prefix</c>, <c>server</c>, <c>client</c>).</summary>
    public IReadOnlyList<string> Planners { get; init; } = ["dp", "greedy", "prefix", "server"];

    /// <summary>
    /// Requests the server runs at full single-request speed at once (processor sharing above that): the batching gain of
    /// the server, >= 1. Default 8.
    /// </summary>
    public int ServerConcurrency { get; init; } = 8;

    /// <summary>Share of each SLA the planner keeps free for queueing at the server, in [0, 1). Default 0.2.</summary>
    public double HeadroomFraction { get; init; } = 0.2;

    /// <summary>Coefficient of variation of each request's link bandwidth around its link's nominal (log-normal, mean 1), >= 0. Default 0.3.</summary>
    public double BandwidthJitterCv { get; init; } = 0.3;

    /// <summary>SLA attainment the maximum-rate search must keep, in (0, 1]. Default 0.99.</summary>
    public double TargetAttainment { get; init; } = 0.99;

    /// <summary>Weight precision on both sides. Default fp16.</summary>
    public Precision Precision { get; init; } = Precision.Fp16;

    /// <summary>Checks every field is in range.</summary>
    /// <exception cref="StrataException">A field is out of range; the message names it and its value.</exception>
    public SplitStudyOptions Validate()
    {
        ArgumentNullException.ThrowIfNull(Model);
        ArgumentNullException.ThrowIfNull(ServerDevice);
        ArgumentNullException.ThrowIfNull(Clients);
        ArgumentNullException.ThrowIfNull(Workload);
        Workload.Validate();
        if (Workload.RateRequestsPerSecond is null)
        {
            throw new StrataException("Split study: the workload has no rate; expected rateRequestsPerSecond (the study rescales it to find the highest rate).");
        }

        if (Clients.Count == 0)
        {
            throw new StrataException("Split study: no clients; expected at least one client population (device, link, share).");
        }

        if (Planners.Count == 0)
        {
            throw new StrataException("Split study: no planners; expected some of dp, greedy, prefix, server, client.");
        }

        if (Slo.E2eSeconds is null && (Slo.TtftSeconds is null || Slo.TbtSeconds is null))
        {
            throw new StrataException("Split study: the SLO needs e2eSeconds, or both ttftSeconds and tbtSeconds, to give each request its SLA.");
        }

        if (ServerConcurrency < 1)
        {
            throw new StrataException($"Split study: server concurrency is {ServerConcurrency}; expected an integer >= 1.");
        }

        if (!(HeadroomFraction >= 0 && HeadroomFraction < 1))
        {
            throw new StrataException($"Split study: headroom is {HeadroomFraction}; expected a fraction in [0, 1).");
        }

        if (!(BandwidthJitterCv >= 0) || double.IsInfinity(BandwidthJitterCv))
        {
            throw new StrataException($"Split study: bandwidth jitter is {BandwidthJitterCv}; expected a coefficient of variation >= 0.");
        }

        if (!(TargetAttainment > 0 && TargetAttainment <= 1))
        {
            throw new StrataException($"Split study: target attainment is {TargetAttainment}; expected a fraction in (0, 1].");
        }

        return this;
    }

    /// <summary>The end-to-end SLA of a request of <paramref name="outputTokens"/> output tokens.</summary>
    public double SlaSeconds(int outputTokens) =>
        Slo.E2eSeconds ?? (Slo.TtftSeconds!.Value + ((outputTokens - 1) * Slo.TbtSeconds!.Value));
}
