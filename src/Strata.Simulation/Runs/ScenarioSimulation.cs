using Strata.Core;
using Strata.Core.Scenarios;
using Strata.Planning.Pools;
using Strata.Simulation.Workloads;

namespace Strata.Simulation.Runs;

/// <summary>Turns a scenario file into the simulations it asks for: one per design it names, or one of its own machine pools.</summary>
/// <remarks>
/// A named Splitwise design takes its pool sizes from the scenario's prompt- and token-role pools (the paper's
/// defaults when there are none); a named baseline takes as many machines as all the scenario's pools together, so
/// designs compare at the same machine count. With no design named, the scenario's pools form the cluster: a
/// prompt or token role makes it phase-split (Splitwise scheduler), otherwise every machine is mixed
/// (join-the-shortest-queue). KV transfers then use 200 Gbit/s per machine.
/// </remarks>
public static class ScenarioSimulation
{
    /// <summary>Default network bandwidth per machine of a scenario-defined cluster: 200 Gbit/s InfiniBand.</summary>
    public const double DefaultNetworkBytesPerSecond = 200e9 / 8;

    /// <summary>The simulations of <paramref name="scenario"/>, labelled.</summary>
    /// <exception cref="StrataException">The scenario lacks a workload or a model.</exception>
    public static IReadOnlyList<(string Label, SimulateOptions Options)> Plan(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (scenario.Workload is null)
        {
            throw new StrataException($"{scenario.SourcePath}: the scenario has no 'workload'; strata simulate needs one.");
        }

        if (scenario.Models.Count == 0)
        {
            throw new StrataException($"{scenario.SourcePath}: the scenario has no 'models'; strata simulate needs the model to serve.");
        }

        var model = scenario.Models[0].Architecture;
        var slo = scenario.Slos.Classes.Count > 0 ? scenario.Slos.Classes[0].Objective : SimulateOptions.MlperfSlo;
        var template = new SimulateOptions { Model = model.Id.Value, Architecture = model, Workload = Workload(scenario.Workload, scenario.Seed), Slo = slo };
        var prompt = scenario.Machines.Where(p => p.Role == MachinePoolRole.Prompt).Sum(p => p.Count);
        var token = scenario.Machines.Where(p => p.Role == MachinePoolRole.Token).Sum(p => p.Count);
        var total = scenario.Machines.Sum(p => p.Count);
        var runs = new List<(string, SimulateOptions)>();
        foreach (var design in scenario.Policies.Designs)
        {
            var splitwise = design.StartsWith("splitwise", StringComparison.OrdinalIgnoreCase);
            runs.Add((design, template with
            {
                Design = design,
                Machines = !splitwise && total > 0 ? total : null,
                PromptMachines = splitwise && prompt + token > 0 ? prompt : null,
                TokenMachines = splitwise && prompt + token > 0 ? token : null,
            }));
        }

        if (runs.Count == 0)
        {
            if (total == 0)
            {
                throw new StrataException($"{scenario.SourcePath}: the scenario names no 'policies.designs' and no 'machines'; strata simulate needs one or the other.");
            }

            var phaseSplit = prompt + token > 0;
            var pools = scenario.Machines.Select(p => new MachinePool(p.Machine, p.Count, p.Role switch
            {
                MachinePoolRole.Prompt => MachineRole.Prompt,
                MachinePoolRole.Token => MachineRole.Token,
                _ => MachineRole.Mixed,
            }, DefaultNetworkBytesPerSecond)).ToArray();
            runs.Add((scenario.Name, template with { CustomDesign = new ClusterDesign(scenario.Name, pools, phaseSplit ? "splitwise" : "shortest-queue") }));
        }

        return runs;
    }

    /// <summary>The simulator's workload for a scenario's workload section.</summary>
    public static WorkloadOptions Workload(WorkloadSpec spec, int seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new WorkloadOptions
        {
            Trace = spec.Trace is { } trace ? (trace.Kind == TraceKind.File ? trace.FilePath : trace.DisplayName) : null,
            RateRequestsPerSecond = spec.RateRequestsPerSecond,
            DurationSeconds = spec.DurationSeconds,
            Requests = spec.Requests,
            Arrivals = spec.IsTrace ? null : spec.Arrivals,
            Burstiness = spec.Burstiness,
            PromptTokens = Lengths(spec.PromptTokens, row => row.PromptTokens),
            OutputTokens = Lengths(spec.OutputTokens, row => row.OutputTokens),
            Seed = seed,
        };
    }

    private static LengthDistribution? Lengths(LengthDistributionSpec? spec, Func<TraceRow, int> column) => spec switch
    {
        null => null,
        FixedLengthSpec f => new LengthDistribution.Fixed(f.Tokens),
        UniformLengthSpec u => new LengthDistribution.Uniform(u.MinTokens, u.MaxTokens),
        LognormalLengthSpec l => new LengthDistribution.LogNormal(l.MedianTokens, l.P90Tokens),
        TraceLengthSpec t => TraceLengths(t.Trace, column),
        _ => throw new StrataException($"Unsupported length distribution {spec.GetType().Name}."),
    };

    private static LengthDistribution TraceLengths(TraceSource source, Func<TraceRow, int> column)
    {
        var trace = Trace.Load(source.Kind == TraceKind.File ? source.FilePath! : source.DisplayName);
        return new LengthDistribution.Empirical(trace.Rows.Select(column).ToArray(), trace.Name);
    }
}
