using Strata.Core.Placement;
using Strata.Planning.Split;
using Strata.Runtime.Engine;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Coordination;

/// <summary>The split path's decision: which blocks the client runs itself, from SplitLLM's Pareto DP over costs measured on this machine and the swarm.</summary>
/// <remarks>
/// Per block, for the whole request of <c>n = prompt + output</c> tokens: the client's cost is <c>n</c> times the
/// measured time of one block's decode step here; the server's is <c>n</c> times the per-block time the servers
/// reported to the coordinator (the client's own when none did, i.e. same hardware); moving the activations either
/// way costs half a measured loopback round trip to the coordinator per decode step; the server load of a block is its
/// server seconds; a client block takes its fp32 weights plus its KV cache. The SLA is <see cref="SplitPathOptions.SlaFactor"/>
/// times the all-server latency, so the DP moves blocks to the client only while the request stays within it.
/// </remarks>
public static class SplitPathPlanner
{
    /// <summary>The client's blocks, one contiguous range (the longest client run of the DP's plan; empty for none).</summary>
    public static async Task<BlockRange> PlanAsync(
        LlamaModel model, CoordinatorClient coordinator, int promptTokens, int outputTokens, SplitPathOptions options, CancellationToken cancellationToken = default,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(coordinator);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var time = timeProvider ?? TimeProvider.System;
        var clientSeconds = MeasureBlockStepSeconds(model, time);
        var hopSeconds = double.PositiveInfinity;
        IReadOnlyList<Protocol.ServerEntry> servers = [];
        for (var i = 0; i < 3; i++)
        {
            var started = time.GetTimestamp();
            servers = await coordinator.ListServersAsync(cancellationToken).ConfigureAwait(false);
            hopSeconds = Math.Min(hopSeconds, time.GetElapsedTime(started).TotalSeconds);
        }

        var reported = servers.Where(s => s.DecodeSecondsPerBlock > 0).Select(s => s.DecodeSecondsPerBlock).ToArray();
        var serverSeconds = reported.Length > 0 ? reported.Average() : clientSeconds;
        var instance = BuildInstance(model.Config, promptTokens, outputTokens, clientSeconds, serverSeconds, hopSeconds, options);
        return LongestClientRun(Contiguous(instance, new ParetoDpSplitPlanner().Plan(instance)));
    }

    /// <summary>
    /// The plan as one contiguous run of client blocks, which is what the chain can run: every block here has the same
    /// costs, so the first <c>k</c> blocks on the client load the server exactly as any <c>k</c> do, and plans that tie
    /// (two transfers either way, such as client-server-server-client against client-client-server-server) are
    /// otherwise decided by the rounding of measured times.
    /// </summary>
    internal static IReadOnlyList<SplitSide> Contiguous(SplitInstance instance, SplitPlan plan)
    {
        var count = plan.ClientLayerCount;
        var prefix = Enumerable.Range(0, instance.LayerCount).Select(i => i < count ? SplitSide.Client : SplitSide.Server).ToArray();
        var candidate = instance.Evaluate(prefix);
        return candidate.Feasible && candidate.ServerLoad <= plan.ServerLoad * (1 + 1e-12) ? prefix : plan.Assignment;
    }

    /// <summary>The split instance of a request over a model from per-block-step costs (see the type's remarks).</summary>
    public static SplitInstance BuildInstance(
        LlamaConfig config, int promptTokens, int outputTokens, double clientSecondsPerBlockStep, double serverSecondsPerBlockStep, double hopSeconds, SplitPathOptions options)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(promptTokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputTokens);
        var tokens = promptTokens + outputTokens;
        var transfer = outputTokens * hopSeconds / 2;
        var blockBytes = (double)LlamaWeightsLoader.BlockBytes(config);
        var kvBytes = 2.0 * tokens * config.KeyValueDimension * sizeof(float);
        var layer = new SplitLayer(tokens * clientSecondsPerBlockStep, tokens * serverSecondsPerBlockStep, transfer, transfer, tokens * serverSecondsPerBlockStep, blockBytes + kvBytes);
        var layers = Enumerable.Repeat(layer, config.LayerCount).ToArray();
        var allServer = new SplitInstance(layers, double.MaxValue, transfer, options.ClientMemoryBudgetBytes)
            .Evaluate(Enumerable.Repeat(SplitSide.Server, config.LayerCount).ToArray()).LatencySeconds;
        return new SplitInstance(layers, allServer * options.SlaFactor, transfer, options.ClientMemoryBudgetBytes);
    }

    /// <summary>The longest run of client blocks in an assignment (first such run on ties).</summary>
    public static BlockRange LongestClientRun(IReadOnlyList<SplitSide> assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        var best = default(BlockRange);
        for (var i = 0; i < assignment.Count;)
        {
            if (assignment[i] != SplitSide.Client)
            {
                i++;
                continue;
            }

            var start = i;
            while (i < assignment.Count && assignment[i] == SplitSide.Client)
            {
                i++;
            }

            if (i - start > best.Count)
            {
                best = BlockRange.FromBounds(start, i);
            }
        }

        return best;
    }

    // Median of a few decode steps of block 0 on a throwaway session.
    private static double MeasureBlockStepSeconds(LlamaModel model, TimeProvider time)
    {
        var session = model.CreateSession();
        var hidden = new float[model.Config.HiddenSize]; // (1, hidden)
        var samples = new double[5];
        for (var i = 0; i < samples.Length + 1; i++)
        {
            hidden.AsSpan().Fill(0.01f);
            var started = time.GetTimestamp();
            model.ForwardBlocks(session, model.Weights.Blocks.First, 1, hidden, 1);
            if (i > 0)
            {
                samples[i - 1] = time.GetElapsedTime(started).TotalSeconds; // the first step is JIT warm-up
            }
        }

        Array.Sort(samples);
        return Math.Max(samples[samples.Length / 2], 1e-7);
    }
}
