using Strata.Core;
using Strata.Core.Catalogs;
using Strata.Core.Models;
using Strata.Core.Network;
using Strata.Core.Scenarios;
using Strata.Planning.Swarm;

namespace Strata.Simulation.Swarm;

/// <summary>Everything needed to build a swarm: topology, server mix, clients, request shape, cost model. Defaults are the paper's 9-server clustered setup.</summary>
public sealed record SwarmSetup
{
    /// <summary>Cost model name for the paper's calibrated constants.</summary>
    public const string PaperCosts = "paper";

    /// <summary>Cost model name for the roofline model.</summary>
    public const string RooflineCosts = "roofline";

    /// <summary><c>clustered</c>, a built-in topology name (abvt, bellcanada, gtsce, attmpls) or a .graph path.</summary>
    public string Topology { get; init; } = "clustered";

    /// <summary>Number of servers (ignored when <see cref="Devices"/> is set).</summary>
    public int Servers { get; init; } = 9;

    /// <summary>Share of servers that are <see cref="FastDevice"/> (rounded), the rest <see cref="SlowDevice"/>.</summary>
    public double FastFraction { get; init; } = 0.2;

    /// <summary>The fast device (the clustered preset's cluster 1).</summary>
    public string FastDevice { get; init; } = SwarmCostPresets.A100;

    /// <summary>The slow device.</summary>
    public string SlowDevice { get; init; } = SwarmCostPresets.Mig;

    /// <summary>Explicit server devices, one per server in join order; overrides the mix when non-empty.</summary>
    public IReadOnlyList<string> Devices { get; init; } = [];

    /// <summary>Number of clients.</summary>
    public int Clients { get; init; } = 1;

    /// <summary>Prompt tokens per request.</summary>
    public int PromptTokens { get; init; } = 20;

    /// <summary>Output tokens per request, the first included.</summary>
    public int OutputTokens { get; init; } = 64;

    /// <summary><see cref="PaperCosts"/> (BLOOM-176B calibrated constants) or <see cref="RooflineCosts"/>.</summary>
    public string Costs { get; init; } = PaperCosts;

    /// <summary>Model for roofline costs (catalog id or config.json path).</summary>
    public string Model { get; init; } = "bloom-176b";

    /// <summary>Weight precision for roofline costs.</summary>
    public Precision Precision { get; init; } = Precision.Int4;

    /// <summary>Software overhead per hop per decode step.</summary>
    public double PerTokenOverheadSeconds { get; init; } = SwarmCostPresets.DefaultPerTokenOverheadSeconds;

    /// <summary>Hub-and-spoke (PETALS) or direct forwarding.</summary>
    public ForwardingMode Forwarding { get; init; } = ForwardingMode.HubAndSpoke;

    /// <summary>Read the clustered preset's 5 ms / 100 ms as round-trip times (one way: half) instead of one-way delays.</summary>
    public bool ClusteredDelaysAreRtt { get; init; }

    /// <summary>The paper's scripts' artefact on placement: MIG 1g.10gb servers capped at 4 PETALS blocks (paper costs only).</summary>
    public bool PaperArtefacts { get; init; }

    /// <summary>Seed of the server order and node draws.</summary>
    public int Seed { get; init; }

    /// <summary>Builds the instance.</summary>
    /// <exception cref="StrataException">A name is unknown or a value out of range.</exception>
    public SwarmInstance Build(Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var clustered = string.Equals(Topology, "clustered", StringComparison.OrdinalIgnoreCase);
        var network = clustered
            ? (ClusteredDelaysAreRtt
                ? ClusteredTopology.Create(ClusteredTopology.InsideDelaySeconds / 2, ClusteredTopology.BetweenDelaySeconds / 2)
                : ClusteredTopology.Create())
            : BuiltInTopologies.Resolve(Topology).ShortestPathLatencies();
        var devices = Devices.Count > 0 ? [.. Devices] : SwarmLayout.Mix(Servers, FastFraction, FastDevice, SlowDevice, Seed);
        foreach (var device in devices.Distinct())
        {
            _ = catalog.Device(device);
        }

        var costs = Costs switch
        {
            PaperCosts => SwarmCostPresets.Bloom176bPaper(perTokenOverheadSeconds: PerTokenOverheadSeconds, migPetalsBlockCap: PaperArtefacts ? 4 : null),
            RooflineCosts => SwarmCostPresets.FromRoofline(catalog.Model(Model), devices.Distinct().Select(catalog.Device), Precision, PromptTokens, OutputTokens, PerTokenOverheadSeconds),
            _ => throw new StrataException($"--costs is '{Costs}'; expected {PaperCosts} (BLOOM-176B, the paper's calibrated constants) or {RooflineCosts}."),
        };
        var fast = Devices.Count > 0 ? devices.MinBy(d => costs.Device(d).DecodeSecondsPerBlock)! : FastDevice;
        return SwarmLayout.Build(costs, network, clustered, devices, Clients, PromptTokens, OutputTokens, Seed, fast, Forwarding);
    }

    /// <summary>The setup a scenario file describes: its machine pools as servers, its topology, its fixed prompt and output lengths.</summary>
    /// <exception cref="StrataException">The scenario lacks what a swarm needs.</exception>
    public static SwarmSetup FromScenario(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var where = scenario.SourcePath;
        if (scenario.Machines.Count == 0)
        {
            throw new StrataException($"{where}: machines is empty; a swarm needs at least one pool of servers.");
        }

        var workload = scenario.Workload ?? throw new StrataException($"{where}: workload is missing; a swarm needs rateRequestsPerSecond, requests, promptTokens and outputTokens.");
        int Fixed(LengthDistributionSpec? spec, string field) => spec is FixedLengthSpec f
            ? f.Tokens
            : throw new StrataException($"{where}: workload.{field} must be a fixed length for a swarm (e.g. {{fixed: 20}}).");
        var devices = scenario.Machines.SelectMany(p => Enumerable.Repeat(p.Machine.Device.Id.Value, p.Count)).ToArray();
        var precision = scenario.Machines[0].Precision ?? scenario.Models.FirstOrDefault()?.Architecture.NativePrecision ?? Precision.Fp16;
        return new SwarmSetup
        {
            Topology = scenario.Topology is { Preset: TopologyPreset.File, FilePath: { } path } ? path : "clustered",
            Devices = [.. Core.Network.NodeAssignment.Shuffle(devices, scenario.Seed)],
            Clients = Math.Max(1, scenario.Clients.Count),
            PromptTokens = Fixed(workload.PromptTokens, "promptTokens"),
            OutputTokens = Fixed(workload.OutputTokens, "outputTokens"),
            Costs = RooflineCosts,
            Model = scenario.Models.FirstOrDefault()?.Architecture.Id.Value ?? "bloom-176b",
            Precision = precision,
            Seed = scenario.Seed,
        };
    }
}
