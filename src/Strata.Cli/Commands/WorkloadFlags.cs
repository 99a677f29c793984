using System.CommandLine;
using Strata.Core.Scenarios;
using Strata.Simulation.Workloads;

namespace Strata.Cli.Commands;

/// <summary>The workload flags <c>strata simulate</c> and <c>strata provision</c> share, with one set of defaults, so a split that <c>provision</c> picks is checked by <c>simulate</c> on the same requests.</summary>
/// <remarks>
/// Default construction: Poisson arrivals at <c>--rate</c> (or the trace's mean rate) for
/// <see cref="WorkloadOptions.DefaultDurationSeconds"/> seconds, each request's (prompt, output) pair drawn as one row of
/// the trace (<c>conv</c> without <c>--trace</c>), seed 0. <c>--arrivals trace</c> replays the recorded arrivals instead;
/// <c>--lengths independent</c> draws the two columns independently (SplitwiseSim's construction).
/// </remarks>
internal sealed class WorkloadFlags
{
    public Option<string?> Arrivals { get; } = new("--arrivals")
    {
        Description = "How arrivals are built: poisson (default: at --rate, lengths drawn from the trace's rows), gamma (--burstiness), or trace (replay the recorded arrivals, rescaled to --rate). The same default in simulate and provision.",
        HelpName = "kind",
    };

    public Option<string?> Lengths { get; } = new("--lengths")
    {
        Description = "With poisson or gamma arrivals: paired (one trace row's prompt and output, default) or independent (each column drawn on its own: SplitwiseSim's construction).",
        HelpName = "draw",
    };

    public Option<double?> Duration { get; } = new("--duration")
    {
        Description = $"Arrival window in seconds (default {WorkloadOptions.DefaultDurationSeconds:G} unless --requests is given; the same in simulate and provision).",
        HelpName = "seconds",
    };

    public Option<int> Seed { get; } = new("--seed") { Description = "Seed of every random choice.", DefaultValueFactory = _ => 0, HelpName = "n" };

    public WorkloadFlags()
    {
        Arrivals.AcceptOnlyFromAmong("poisson", "gamma", "trace");
        Lengths.AcceptOnlyFromAmong("paired", "independent");
    }

    /// <summary>The workload the flags describe, every default applied.</summary>
    public WorkloadOptions Build(ParseResult parseResult, string? trace, double? rateRps, int? requests = null, double burstiness = 1.0, LengthDistribution? prompt = null, LengthDistribution? output = null)
    {
        var arrivals = parseResult.GetValue(Arrivals);
        if (arrivals == "trace" && trace is null)
        {
            throw new Core.StrataException("--arrivals trace replays a trace; give --trace code, conv or a CSV path, or pick --arrivals poisson.");
        }

        var duration = parseResult.GetValue(Duration);
        return new WorkloadOptions
        {
            Trace = trace,
            RateRequestsPerSecond = rateRps,
            DurationSeconds = duration ?? (requests is null ? WorkloadOptions.DefaultDurationSeconds : null),
            Requests = requests,
            Arrivals = arrivals switch { "trace" => null, "gamma" => ArrivalProcess.Gamma, _ => ArrivalProcess.Poisson },
            IndependentLengths = parseResult.GetValue(Lengths) == "independent",
            Burstiness = burstiness,
            PromptTokens = prompt,
            OutputTokens = output,
            Seed = parseResult.GetValue(Seed),
        };
    }

    /// <summary>The workload as JSON: construction name, the words printed with the tables, and the numbers.</summary>
    /// <param name="workload">The workload.</param>
    /// <param name="note">Words appended to the description (provision's "at each rate the search tries").</param>
    public static object Json(WorkloadOptions workload, string note = "") => new
    {
        construction = workload.ConstructionName,
        description = workload.Construction + note,
        trace = workload.Trace,
        rateRequestsPerSecond = workload.RateRequestsPerSecond,
        durationSeconds = workload.DurationSeconds,
        requests = workload.Requests,
        seed = workload.Seed,
    };
}
