using Strata.Core.Scenarios;
using Strata.Simulation.Cluster;

namespace Strata.Simulation.Runs;

/// <summary>The <c>--compat splitwisesim</c> preset: every rule of SplitwiseSim (Mutinifni/splitwise-sim at 8f99e7d) that changes results, and the printed list of rules in force.</summary>
/// <remarks>
/// Sets: the database performance model; token-JSQ routing on baseline designs (Splitwise designs keep Strata's
/// mixed-pool scheduler, which follows SplitwiseSim's MixedPoolScheduler); Splitwise MLS batching with a 2,048-token
/// budget, 512 sequences per machine and 100% of HBM; KV moved after prefill at 200 GiB/s; Poisson arrivals with
/// prompt and output lengths drawn independently from the trace's columns. Flags given beside the preset override it.
/// </remarks>
public static class SplitwiseSimCompat
{
    /// <summary>The preset's name on the command line and in scenarios.</summary>
    public const string Name = "splitwisesim";

    /// <summary><paramref name="options"/> with every SplitwiseSim rule set.</summary>
    public static SimulateOptions Apply(SimulateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var splitwise = options.CustomDesign?.Scheduler == "splitwise" || options.Design.StartsWith("splitwise", StringComparison.OrdinalIgnoreCase);
        return options with
        {
            SplitwiseSimCompatible = true,
            SplitwiseSimDatabase = true,
            Routing = splitwise ? options.Routing : "token-jsq",
            Cluster = options.Cluster with
            {
                Batching = BatchingPolicy.SplitwiseMls,
                MaxBatchTokens = 2048,
                MaxBatchRequests = 512,
                MemoryUtilization = 1.0,
                KvTransfer = KvTransferRule.FixedRate,
                KvTransferBytesPerSecond = 200.0 * (1L << 30),
            },
            Workload = options.Workload.Trace is not null || options.Workload.Arrivals is not null
                ? options.Workload with { Arrivals = options.Workload.Arrivals ?? ArrivalProcess.Poisson, IndependentLengths = true }
                : options.Workload with { IndependentLengths = true },
        };
    }

    /// <summary>The rules in force for a run, one line each (printed by <c>strata simulate</c>).</summary>
    public static IReadOnlyList<string> Rules(SimulateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var c = options.Cluster;
        var lines = new List<string>();
        if (options.SplitwiseSimCompatible)
        {
            lines.Add("preset: --compat splitwisesim (SplitwiseSim 8f99e7d rules; flags given beside it override)");
        }

        lines.Add("perf: " + (options.SplitwiseSimDatabase ? "splitwisesim-db (median prompt/token time per x = prompt x batch, linear, extrapolated; decode-only = token(n), mixed = 1.1 prompt(x))" : options.Profile.ToString().ToLowerInvariant()));
        lines.Add("routing: " + (options.CustomDesign?.Scheduler ?? (options.Design.StartsWith("splitwise", StringComparison.OrdinalIgnoreCase) ? "splitwise (mixed pool)" : options.Routing ?? "shortest-queue")));
        lines.Add($"batching: {Policy(c.Batching)}, token budget {c.MaxBatchTokens}, max {c.MaxBatchRequests} sequences, {c.MemoryUtilization:P0} of memory");
        lines.Add("kv transfer: " + c.KvTransfer switch
        {
            KvTransferRule.FixedRate => $"after prefill at {c.KvTransferBytesPerSecond / (1L << 30):G4} GiB/s, no contention",
            KvTransferRule.OneLink => "one network link per machine, layer-wise for prompts >= " + c.LayerwiseTransferMinPromptTokens + " tokens",
            _ => "all of a machine's network links, layer-wise for prompts >= " + c.LayerwiseTransferMinPromptTokens + " tokens",
        });
        lines.Add($"workload ({options.Workload.ConstructionName}): {options.Workload.Construction}");
        return lines;
    }

    /// <summary>The policy's command-line name.</summary>
    public static string Policy(BatchingPolicy policy) => policy switch
    {
        BatchingPolicy.PrefillFirst => "prefill-first",
        BatchingPolicy.Chunked => "chunked",
        BatchingPolicy.SplitwiseMls => "splitwise-mls",
        _ => "mixed",
    };
}
