using Strata.Core;
using Strata.Core.Models;
using Strata.Planning.Pools;
using Strata.Core.Workload;
using Strata.Performance.Estimation;
using Strata.Simulation.Cluster;
using Strata.Simulation.Workloads;

namespace Strata.Simulation.Runs;

/// <summary>Everything <c>strata simulate</c> needs; defaults are documented per field.</summary>
public sealed record SimulateOptions
{
    /// <summary>The MLPerf Inference server SLO for Llama-2-70B: TTFT 2 s, time per output token 200 ms.</summary>
    public static ServiceLevelObjective MlperfSlo { get; } = new(TtftSeconds: 2.0, TbtSeconds: 0.2);

    /// <summary>Catalog model id or config.json path; default Llama-2-70B (the Splitwise model).</summary>
    public string Model { get; init; } = "llama-2-70b";

    /// <summary>The model itself, when it does not come from the catalog (a scenario's inline config); overrides <see cref="Model"/>.</summary>
    public ModelArchitecture? Architecture { get; init; }

    /// <summary>A custom cluster (a scenario's machine pools); overrides <see cref="Design"/> and the pool sizes.</summary>
    public ClusterDesign? CustomDesign { get; init; }

    /// <summary>Design name (<c>baseline-h100</c>, <c>splitwise-ha</c>, ...).</summary>
    public string Design { get; init; } = "baseline-h100";

    /// <summary>Machines of a baseline design.</summary>
    public int? Machines { get; init; }

    /// <summary>Prompt machines of a Splitwise design.</summary>
    public int? PromptMachines { get; init; }

    /// <summary>Token machines of a Splitwise design.</summary>
    public int? TokenMachines { get; init; }

    /// <summary>Routing of a baseline design: shortest-queue (default), round-robin, least-loaded.</summary>
    public string? Routing { get; init; }

    /// <summary>The requests.</summary>
    public required WorkloadOptions Workload { get; init; }

    /// <summary>Performance model of every machine.</summary>
    public PerformanceProfile Profile { get; init; } = PerformanceProfile.Roofline;

    /// <summary>Price steps with SplitwiseSim's database lookup (<see cref="Performance.Profiles.SplitwiseSimDatabaseModel"/>) instead of <see cref="Profile"/>.</summary>
    public bool SplitwiseSimDatabase { get; init; }

    /// <summary>The SplitwiseSim compatibility preset applied (<see cref="SplitwiseSimCompat"/>), for the printed rules.</summary>
    public bool SplitwiseSimCompatible { get; init; }

    /// <summary>Absolute SLO for attainment and goodput; TBT is checked against each request's TPOT. Default MLPerf's.</summary>
    public ServiceLevelObjective Slo { get; init; } = MlperfSlo;

    /// <summary>Machine-level settings.</summary>
    public ClusterSimulationOptions Cluster { get; init; } = new();

    /// <summary>Checks the options.</summary>
    /// <exception cref="StrataException">A value is out of range.</exception>
    public SimulateOptions Validate()
    {
        Workload.Validate();
        Cluster.Validate();
        return this;
    }
}
