using Strata.Core;
using Strata.Core.Hardware;
using Strata.Core.Models;
using Strata.Performance;
using Strata.Performance.Memory;
using Strata.Performance.Estimation;

namespace Strata.Planning.Swarm;

/// <summary>Where a swarm's costs come from: the paper's calibrated BLOOM-176B constants, or the scored performance model of each device.</summary>
public static class SwarmCostPresets
{
    /// <summary>Name of the calibrated preset.</summary>
    public const string PaperPresetName = "bloom-176b-paper";

    /// <summary>Default software overhead per hop per decode step, added to the RTT (the paper's setups: 50-100 ms).</summary>
    public const double DefaultPerTokenOverheadSeconds = 0.075;

    /// <summary>The fast device of the paper's experiments.</summary>
    public const string A100 = "a100-80gb";

    /// <summary>The slow device of the paper's experiments (one MIG 1g.10gb slice of an A100).</summary>
    public const string Mig = "a100-mig-1g.10gb";

    /// <summary>
    /// Sun et al.'s constants for BLOOM-176B in NF4 on PETALS: L = 70, 1.32 GB per block, 2 x 14336 x 2 bytes of cache
    /// per token per block; decode 3.22 ms (A100) and 16.25 ms (MIG 1g) per block per token; prefill per block
    /// 0.0743 l + 32.99 ms and 0.1041 l + 206.35 ms; prompt overhead 0.7049 l + 67 ms per hop (transfer included).
    /// </summary>
    /// <remarks>
    /// Each device also carries what PETALS' own block count reads: the device's whole memory (80 GiB, 10 GiB) and
    /// PETALS' autograd reserve for BLOOM (2 GiB). <paramref name="migPetalsBlockCap"/> is the paper's scripts' cap of
    /// MIG servers at 4 PETALS blocks, an artefact left off unless asked for.
    /// </remarks>
    /// <param name="a100MemoryBytes">Usable memory of an A100-80GB for CG-BP and the MILP (default: 90% of 80 GiB).</param>
    /// <param name="migMemoryBytes">Usable memory of a MIG 1g.10gb slice for CG-BP and the MILP (default: 90% of 10 GiB).</param>
    /// <param name="perTokenOverheadSeconds">Software overhead per hop per decode step.</param>
    /// <param name="migPetalsBlockCap">Cap on the blocks PETALS gives a MIG slice (null: PETALS' own rule; the paper's scripts: 4).</param>
    public static SwarmCosts Bloom176bPaper(
        double a100MemoryBytes = 0.9 * 80 * (1L << 30),
        double migMemoryBytes = 0.9 * 10 * (1L << 30),
        double perTokenOverheadSeconds = DefaultPerTokenOverheadSeconds,
        int? migPetalsBlockCap = null)
    {
        var devices = new Dictionary<string, SwarmDeviceCosts>(StringComparer.Ordinal)
        {
            [A100] = new(A100, a100MemoryBytes, 3.22e-3, 32.99e-3, 0.0743e-3)
            {
                DeviceMemoryBytes = 80.0 * (1L << 30),
                ReserveBytes = SwarmDeviceCosts.PetalsBloomReserveBytes,
            },
            [Mig] = new(Mig, migMemoryBytes, 16.25e-3, 206.35e-3, 0.1041e-3)
            {
                DeviceMemoryBytes = 10.0 * (1L << 30),
                ReserveBytes = SwarmDeviceCosts.PetalsBloomReserveBytes,
                PetalsBlockCap = migPetalsBlockCap,
            },
        };
        return new SwarmCosts(PaperPresetName, 70, 1.32e9, 2.0 * 14336 * 2, perTokenOverheadSeconds, 67e-3, 0.7049e-3, 0, devices) { HiddenSize = 14336 };
    }

    /// <summary>The same as <see cref="FromPerformanceModel"/> (named for <c>--costs roofline</c>, which predates the device model).</summary>
    /// <inheritdoc cref="FromPerformanceModel" path="/param"/>
    public static SwarmCosts FromRoofline(
        ModelArchitecture model,
        IEnumerable<DeviceSpec> devices,
        Precision precision,
        int promptTokens,
        int outputTokens,
        double perTokenOverheadSeconds = DefaultPerTokenOverheadSeconds,
        Func<DeviceSpec, IBlockCostModel>? blockCosts = null) =>
        FromPerformanceModel(model, devices, precision, promptTokens, outputTokens, perTokenOverheadSeconds, blockCosts);

    /// <summary>Costs of <paramref name="model"/> at <paramref name="precision"/> on each of <paramref name="devices"/>, each device priced by the model the simulator and <c>strata estimate</c> use for it (<see cref="ScoredModel.For"/>).</summary>
    /// <remarks>
    /// One block's time is <see cref="IBlockCostModel.BlocksSeconds"/> of one block on one device (a server hosts its
    /// blocks on one device): decode at the mid-session context <c>prompt + output / 2</c>, prefill fitted as a line
    /// through 1 and 1,024 tokens. By default that is the roofline fitted to the deployment's own measurements where it
    /// has some, else the per-device model; <see cref="SwarmCosts.Pricing"/> says which, with its validated error.
    /// Memory is 90% of the device's; block and cache bytes come from <see cref="MemoryModel"/>. Hidden states travel at
    /// 2 bytes per value (4 at fp32).
    /// </remarks>
    /// <param name="model">The model.</param>
    /// <param name="devices">The servers' devices.</param>
    /// <param name="precision">Weight precision.</param>
    /// <param name="promptTokens">Prompt length of a request.</param>
    /// <param name="outputTokens">Output tokens of a request.</param>
    /// <param name="perTokenOverheadSeconds">Software overhead per hop per decode step.</param>
    /// <param name="blockCosts">Per-block times by device (a measured or runtime profile); null: each device's scored model.</param>
    /// <exception cref="StrataException">A device has no FLOP/s figure for the precision.</exception>
    public static SwarmCosts FromPerformanceModel(
        ModelArchitecture model,
        IEnumerable<DeviceSpec> devices,
        Precision precision,
        int promptTokens,
        int outputTokens,
        double perTokenOverheadSeconds = DefaultPerTokenOverheadSeconds,
        Func<DeviceSpec, IBlockCostModel>? blockCosts = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(devices);
        var byId = new Dictionary<string, SwarmDeviceCosts>(StringComparer.Ordinal);
        var pricing = new List<string>();
        var kinds = new SortedSet<string>(StringComparer.Ordinal);
        MemoryModel? memory = null;
        foreach (var device in devices)
        {
            if (byId.ContainsKey(device.Id.Value))
            {
                continue;
            }

            var machine = MachineSpec.Of(device);
            memory ??= new MemoryModel(new Deployment(model, machine, precision));
            IBlockCostModel costs;
            if (blockCosts is not null)
            {
                costs = blockCosts(device);
                kinds.Add(costs.Name);
                pricing.Add($"{device.Id}: {costs.Name} (given; not scored by Strata's validation)");
            }
            else
            {
                var scored = ScoredModel.For(new Deployment(model, machine, precision));
                costs = scored.Blocks;
                kinds.Add(scored.Kind);
                pricing.Add(scored.Describe());
            }

            var decode = costs.BlocksSeconds(1, BatchShape.Decode(1, promptTokens + Math.Max(1, outputTokens / 2)));
            var prefill1 = costs.BlocksSeconds(1, BatchShape.Prefill(1, 1));
            var prefill1024 = costs.BlocksSeconds(1, BatchShape.Prefill(1, 1024));
            var perToken = Math.Max(0, (prefill1024 - prefill1) / 1023);
            byId[device.Id.Value] = new SwarmDeviceCosts(device.Id.Value, device.MemoryBytes * MemoryModel.DefaultMemoryUtilization, decode, Math.Max(0, prefill1 - perToken), perToken)
            {
                DeviceMemoryBytes = device.MemoryBytes,
                ReserveBytes = SwarmDeviceCosts.PetalsBloomReserveBytes * model.HiddenSize / 14336,
            };
        }

        if (memory is null)
        {
            throw new StrataException("The swarm lists no server devices; expected at least one.");
        }

        return new SwarmCosts(
            $"{string.Join('+', kinds)}:{model.Id}/{PrecisionInfo.Name(precision)}",
            model.LayerCount,
            memory.WeightsBytesPerBlock,
            memory.KvBytesPerTokenPerBlock,
            perTokenOverheadSeconds,
            perTokenOverheadSeconds,
            0,
            memory.ActivationBytesPerToken,
            byId)
        {
            HiddenSize = model.HiddenSize,
            KeyValueGroups = Math.Max(1, model.AttentionHeadCount / model.KeyValueHeadCount),
            Pricing = pricing,
        };
    }
}
