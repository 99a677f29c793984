namespace Strata.Planning.Split;

/// <summary>Baseline: start with every layer on the server and move layers to the client one at a time, best load saved per latency added first.</summary>
/// <remarks>
/// Each round considers every server layer: moving it saves its server load and changes the latency by the
/// transfers and compute around it. A move is allowed when the client memory still fits and the latency still meets
/// the SLA (or, while the plan misses the SLA, when the move makes it faster). The allowed move with the highest
/// load saved per second added wins; a move that does not add latency counts as an infinite ratio (ties: more load
/// saved, then more latency removed, then the earlier layer); moves that save nothing and add latency are never made.
/// Stops when no move is allowed. At most L rounds of L candidates evaluated exactly in O(L): O(L^3), about a
/// millisecond at 80 layers. Myopic by design: it cannot see that two adjacent moves together avoid a transfer.
/// </remarks>
public sealed class GreedySplitPlanner : ISplitPlanner
{
    /// <inheritdoc />
    public string Name => "greedy";

    /// <inheritdoc />
    public SplitPlan Plan(SplitInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var layers = instance.LayerSpan;
        var assignment = new SplitSide[layers.Length];
        Array.Fill(assignment, SplitSide.Server);
        var latencySeconds = instance.LatencySeconds(assignment);
        var memoryLimitBytes = instance.MemoryLimitBytes;
        while (true)
        {
            var bestLayer = -1;
            var bestSaved = 0.0;
            var bestAdded = 0.0;
            var bestLatencySeconds = 0.0;
            for (var j = 0; j < layers.Length; j++)
            {
                if (assignment[j] != SplitSide.Server)
                {
                    continue;
                }

                assignment[j] = SplitSide.Client;
                var candidateLatencySeconds = instance.LatencySeconds(assignment);
                var fitsMemory = instance.ClientMemoryBytes(assignment) <= memoryLimitBytes;
                assignment[j] = SplitSide.Server;

                var saved = layers[j].ServerLoad;
                var added = candidateLatencySeconds - latencySeconds;
                var allowed = fitsMemory
                    && (candidateLatencySeconds <= instance.SlaSeconds || candidateLatencySeconds < latencySeconds)
                    && (saved > 0 || added < 0);
                if (allowed && (bestLayer < 0 || Preferred(saved, added, bestSaved, bestAdded)))
                {
                    (bestLayer, bestSaved, bestAdded, bestLatencySeconds) = (j, saved, added, candidateLatencySeconds);
                }
            }

            if (bestLayer < 0)
            {
                return instance.EvaluateOwned(assignment);
            }

            assignment[bestLayer] = SplitSide.Client;
            latencySeconds = bestLatencySeconds;
        }
    }

    /// <summary>Whether a move saving <paramref name="saved"/> for <paramref name="added"/> seconds beats the best so far.</summary>
    private static bool Preferred(double saved, double added, double bestSaved, double bestAdded)
    {
        var free = added <= 0;
        var bestFree = bestAdded <= 0;
        if (free != bestFree)
        {
            return free;
        }

        if (free)
        {
            return saved > bestSaved || (saved == bestSaved && added < bestAdded);
        }

        // Cross-multiplied ratios (both added > 0): saved / added > bestSaved / bestAdded.
        var left = saved * bestAdded;
        var right = bestSaved * added;
        return left > right || (left == right && saved > bestSaved);
    }
}
