using Strata.Core;
using Strata.Core.Catalogs;

namespace Strata.Planning.Pools;

/// <summary>A named cluster: its machine pools and how requests are scheduled over them.</summary>
/// <param name="Name">Design name (<c>splitwise-ha</c>).</param>
/// <param name="Pools">Machine pools, machine indices numbered in pool order.</param>
/// <param name="Scheduler">Which cluster-level scheduler to use (<see cref="ClusterDesigns.CreateScheduler"/>).</param>
public sealed record ClusterDesign(string Name, IReadOnlyList<MachinePool> Pools, string Scheduler)
{
    /// <summary>Machines over all pools.</summary>
    public int MachineCount => Pools.Sum(pool => pool.Count);

    /// <summary>Price of the whole cluster in USD per hour.</summary>
    public double PricePerHour => Pools.Sum(pool => pool.Count * pool.Machine.PricePerHour);

    /// <summary>Provisioned power of the whole cluster.</summary>
    public double PowerWatts => Pools.Sum(pool => pool.Count * pool.Machine.PowerWatts);
}

/// <summary>The designs of the Splitwise paper by name, with pool sizes as parameters.</summary>
/// <remarks>
/// Machines are DGX boxes of 8 GPUs from the catalog (<c>dgx-a100</c>, <c>dgx-h100</c>, <c>dgx-h100-pcap</c>).
/// Network (KV transfer) bandwidth per link is the catalog machine's NIC speed (InfiniBand as in the paper: 200 Gbit/s on
/// A100 machines, 400 Gbit/s on H100 machines); each DGX has 8 such links (the simulator's KV-transfer rule decides how many a transfer uses). Splitwise-HHcap caps the token machines' H100s.
/// </remarks>
public static class ClusterDesigns
{
    /// <summary>Design names.</summary>
    public static IReadOnlyList<string> Names { get; } = ["baseline-a100", "baseline-h100", "splitwise-aa", "splitwise-hh", "splitwise-ha", "splitwise-hhcap"];

    /// <summary>Scheduler names for baseline designs.</summary>
    public static IReadOnlyList<string> BaselineSchedulers { get; } = ["shortest-queue", "round-robin", "least-loaded", "token-jsq"];

    /// <summary>Builds a design by name.</summary>
    /// <param name="name">One of <see cref="Names"/>.</param>
    /// <param name="catalog">Where the machines come from.</param>
    /// <param name="machines">Baseline machines (default 40).</param>
    /// <param name="promptMachines">Splitwise prompt machines (default: the paper's 25 for HH/HA/HHcap, 40 for AA).</param>
    /// <param name="tokenMachines">Splitwise token machines (default: 15 for HH and HHcap, 26 for HA, 30 for AA).</param>
    /// <param name="baselineScheduler">Routing of baseline designs (default shortest-queue).</param>
    /// <exception cref="StrataException">Unknown design, scheduler, or a pool size out of range.</exception>
    public static ClusterDesign Create(string name, Catalog catalog, int? machines = null, int? promptMachines = null, int? tokenMachines = null, string? baselineScheduler = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var scheduler = baselineScheduler ?? "shortest-queue";
        if (!BaselineSchedulers.Contains(scheduler))
        {
            throw new StrataException($"Unknown routing '{scheduler}'; expected one of {string.Join(", ", BaselineSchedulers)}.");
        }

        const double A100Network = 200e9 / 8, H100Network = 400e9 / 8;
        MachinePool Pool(string machine, int count, MachineRole role, double network)
        {
            var spec = catalog.Machine(machine);
            return new(spec, count, role, spec.NetworkInterfaceBytesPerSecond > 0 ? spec.NetworkInterfaceBytesPerSecond : network);
        }

        var lower = name.ToLowerInvariant();
        if (lower.StartsWith("baseline-", StringComparison.Ordinal))
        {
            if (promptMachines is not null || tokenMachines is not null)
            {
                throw new StrataException($"Design '{name}' has one pool of mixed machines: give --machines, not --prompt-machines/--token-machines.");
            }

            var count = Count(machines ?? 40, "--machines", allowZero: false);
            return lower switch
            {
                "baseline-a100" => new ClusterDesign(lower, [Pool("dgx-a100", count, MachineRole.Mixed, A100Network)], scheduler),
                "baseline-h100" => new ClusterDesign(lower, [Pool("dgx-h100", count, MachineRole.Mixed, H100Network)], scheduler),
                _ => throw Unknown(name),
            };
        }

        if (machines is not null)
        {
            throw new StrataException($"Design '{name}' has prompt and token pools: give --prompt-machines and --token-machines, not --machines.");
        }

        var (prompt, token, promptMachine, tokenMachine, promptNetwork, tokenNetwork) = lower switch
        {
            "splitwise-aa" => (40, 30, "dgx-a100", "dgx-a100", A100Network, A100Network),
            "splitwise-hh" => (25, 15, "dgx-h100", "dgx-h100", H100Network, H100Network),
            "splitwise-ha" => (25, 26, "dgx-h100", "dgx-a100", H100Network, A100Network),
            "splitwise-hhcap" => (25, 15, "dgx-h100", "dgx-h100-pcap", H100Network, H100Network),
            _ => throw Unknown(name),
        };
        var promptCount = Count(promptMachines ?? prompt, "--prompt-machines", allowZero: true);
        var tokenCount = Count(tokenMachines ?? token, "--token-machines", allowZero: true);
        if (promptCount + tokenCount == 0)
        {
            throw new StrataException($"Design '{name}' has no machines: --prompt-machines and --token-machines are both 0.");
        }

        return new ClusterDesign(lower, [Pool(promptMachine, promptCount, MachineRole.Prompt, promptNetwork), Pool(tokenMachine, tokenCount, MachineRole.Token, tokenNetwork)], "splitwise");
    }

    /// <summary>A new scheduler of the design's kind.</summary>
    public static IClusterScheduler CreateScheduler(ClusterDesign design)
    {
        ArgumentNullException.ThrowIfNull(design);
        return design.Scheduler switch
        {
            "splitwise" => new SplitwiseScheduler(),
            "round-robin" => new RoundRobinScheduler(),
            "least-loaded" => new LeastLoadedScheduler(),
            "token-jsq" => new TokenJsqScheduler(),
            _ => new ShortestQueueScheduler(),
        };
    }

    private static int Count(int value, string flag, bool allowZero) =>
        value > 0 || (allowZero && value == 0)
            ? value
            : throw new StrataException($"{flag} is {value}; expected {(allowZero ? "0 or more" : "at least 1")} machines.");

    private static StrataException Unknown(string name) =>
        new($"Unknown design '{name}'; expected one of {string.Join(", ", Names)}.");
}
