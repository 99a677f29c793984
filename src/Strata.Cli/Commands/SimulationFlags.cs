using Strata.Core;
using Strata.Performance.Estimation;
using Strata.Simulation.Cluster;
using Strata.Simulation.Runs;

namespace Strata.Cli.Commands;

/// <summary>Applies <c>strata simulate</c>'s rule flags: the compat preset first, then each flag given, which overrides it.</summary>
internal static class SimulationFlags
{
    public static SimulateOptions Apply(SimulateOptions options, string? compat, string? perf, string? batching, int? tokenBudget, int? maxSeqs, double? memoryUtil, string? kvTransfer, double? kvRateGibps, string? lengths, string? arrivals = null)
    {
        if (compat == SplitwiseSimCompat.Name)
        {
            // The preset sets token-JSQ routing on baselines; a --routing given beside it wins.
            var routing = options.Routing;
            options = SplitwiseSimCompat.Apply(options);
            options = routing is null ? options : options with { Routing = routing };
        }

        if (perf is not null)
        {
            options = options with
            {
                SplitwiseSimDatabase = perf == "splitwisesim-db",
                Profile = perf == "measured" ? PerformanceProfile.Measured : perf == "roofline" ? PerformanceProfile.Roofline : options.Profile,
            };
        }

        var cluster = options.Cluster;
        if (batching is not null)
        {
            cluster = cluster with
            {
                Batching = batching switch
                {
                    "prefill-first" => BatchingPolicy.PrefillFirst,
                    "chunked" => BatchingPolicy.Chunked,
                    "splitwise-mls" => BatchingPolicy.SplitwiseMls,
                    _ => BatchingPolicy.Mixed,
                },
            };
        }

        if (tokenBudget is { } budget)
        {
            cluster = cluster with { MaxBatchTokens = budget >= 1 ? budget : throw new StrataException($"--token-budget is {budget}; expected at least 1 token.") };
        }

        if (maxSeqs is { } seqs)
        {
            cluster = cluster with { MaxBatchRequests = seqs >= 1 ? seqs : throw new StrataException($"--max-seqs is {seqs}; expected at least 1 sequence.") };
        }

        if (memoryUtil is { } util)
        {
            cluster = cluster with { MemoryUtilization = util };
        }

        if (kvTransfer is not null)
        {
            cluster = cluster with { KvTransfer = kvTransfer switch { "one-link" => KvTransferRule.OneLink, "fixed" => KvTransferRule.FixedRate, _ => KvTransferRule.AllLinks } };
        }

        if (kvRateGibps is { } rate)
        {
            cluster = cluster with { KvTransferBytesPerSecond = rate > 0 && double.IsFinite(rate) ? rate * (1L << 30) : throw new StrataException($"--kv-rate is {rate}; expected a positive number of GiB/s.") };
        }

        options = options with { Cluster = cluster };
        if (arrivals == "trace")
        {
            // Given beside --compat, the replay wins over the preset's Poisson arrivals.
            options = options with { Workload = options.Workload with { Arrivals = null } };
        }

        if (lengths is not null)
        {
            options = options with { Workload = options.Workload with { IndependentLengths = lengths == "independent" } };
        }

        return options;
    }
}
