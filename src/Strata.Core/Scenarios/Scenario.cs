using Strata.Core.Catalogs;
using Strata.Core.Hardware;

namespace Strata.Core.Scenarios;

/// <summary>A parsed, validated scenario file: the model, cluster, clients, links, workload, SLOs and policies to study.</summary>
/// <remarks>
/// Built by <see cref="ScenarioLoader"/>; every catalog reference is already resolved and every path is absolute.
/// The format is documented in <c>docs/scenarios.md</c>. Immutable.
/// </remarks>
public sealed record Scenario
{
    /// <summary>The scenario's name (<c>name</c>), used in reports.</summary>
    public required string Name { get; init; }

    /// <summary>Free text (<c>description</c>); <see langword="null"/> when absent.</summary>
    public string? Description { get; init; }

    /// <summary>Seed for every random draw (<c>seed</c>); 0 by default.</summary>
    public int Seed { get; init; }

    /// <summary>Absolute path of the scenario file.</summary>
    public required string SourcePath { get; init; }

    /// <summary>Absolute path of the extra catalog file (<c>catalog</c>); <see langword="null"/> when absent.</summary>
    public string? CatalogPath { get; init; }

    /// <summary>The catalog the scenario was resolved against: the caller's, plus the extra catalog file if any.</summary>
    /// <remarks>Inline <see cref="Devices"/> are not in it; they are already resolved into pools and clients.</remarks>
    public required Catalog Catalog { get; init; }

    /// <summary>The models used (<c>models</c>), in file order.</summary>
    public IReadOnlyList<ScenarioModel> Models { get; init; } = [];

    /// <summary>Devices defined inline in the file (<c>devices</c>), in file order.</summary>
    public IReadOnlyList<DeviceSpec> Devices { get; init; } = [];

    /// <summary>Machine pools of the cluster (<c>machines</c>), in file order.</summary>
    public IReadOnlyList<ScenarioMachinePool> Machines { get; init; } = [];

    /// <summary>Client populations (<c>clients</c>), in file order; their shares sum to 1.</summary>
    public IReadOnlyList<ScenarioClient> Clients { get; init; } = [];

    /// <summary>Named network links (<c>links</c>), in file order.</summary>
    public IReadOnlyList<ScenarioLink> Links { get; init; } = [];

    /// <summary>Swarm topology (<c>topology</c>); <see langword="null"/> when absent.</summary>
    public TopologySpec? Topology { get; init; }

    /// <summary>Request stream (<c>workload</c>); <see langword="null"/> when absent.</summary>
    public WorkloadSpec? Workload { get; init; }

    /// <summary>Latency objectives (<c>slos</c>); <see cref="SloSpec.None"/> when absent.</summary>
    public SloSpec Slos { get; init; } = SloSpec.None;

    /// <summary>Designs and policies to compare (<c>policies</c>); <see cref="PolicySelection.Empty"/> when absent.</summary>
    public PolicySelection Policies { get; init; } = PolicySelection.Empty;
}
