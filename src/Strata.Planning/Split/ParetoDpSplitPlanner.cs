using System.Diagnostics;

namespace Strata.Planning.Split;

/// <summary>The exact SplitLLM planner: a dynamic programme over layers that keeps, per side of the previous layer, the Pareto frontier of partial plans.</summary>
/// <remarks>
/// <para>
/// State after layer l = the side layer l ran on; the cost of every later layer depends on the past only through
/// it. Each state keeps the partial plans no other partial plan beats in all of latency so far, server load so far
/// and (when the memory budget can bind) client memory so far: 2-D dominance on (latency, load) without a binding
/// budget, 3-D with one. A partial plan whose latency plus the least possible latency of the remaining layers
/// exceeds the SLA, or whose memory exceeds the budget, is dropped. The answer is the least-load complete plan
/// that meets the SLA, ties by least latency. Exact: no discretisation; the sums are the same additions in the
/// same order as <see cref="SplitInstance.Evaluate"/>, and dominance survives adding the same step cost to both
/// points because rounding is monotone.
/// </para>
/// <para>
/// Each layer merges the two frontiers of the previous layer (already sorted by latency) and sweeps them once:
/// O(F) per state with 2-D dominance (keep a point only if its load is below every faster point's), O(F log F)
/// with 3-D (a staircase of (load, memory) over the faster points). Branch and bound on top: the Lagrangian
/// relaxation of the SLA (least load + λ x latency, a two-state programme per multiplier λ) gives a lower bound on
/// the load any completion adds within the remaining latency budget and a cheap feasible completion for every
/// partial plan; partial plans whose bound exceeds the best feasible load found so far are cut (with a relative
/// slack of 1e-10, so ties survive for the latency tie-break). Total O(L x F) for frontier size F: 80 random layers
/// take 0.07 ms at the median (tens of microseconds for model-derived instances whose blocks are alike); the worst
/// case is exponential, as for any exact method for this knapsack-like problem, and random instances with small
/// integer costs or a binding memory budget reach tens of milliseconds.
/// </para>
/// <para>
/// When no assignment meets the SLA within the budget, the plan is the fastest assignment within the budget, ties by
/// least load, marked infeasible: an O(L) lexicographic (latency, load) programme without a binding budget, else the
/// same frontier search with the SLA replaced by the all-server latency (all-server always fits the budget).
/// </para>
/// </remarks>
public sealed partial class ParetoDpSplitPlanner : ISplitPlanner
{
    /// <inheritdoc />
    public string Name => "dp";

    /// <inheritdoc />
    public SplitPlan Plan(SplitInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var remainingSeconds = RemainingLowerBounds(instance);
        using (var search = new FrontierSearch(instance, remainingSeconds, instance.IsMemoryConstrained))
        {
            // The Lagrangian optimum at the SLA is the first incumbent; completions found on the way lower it, and
            // its load with the Lagrangian bound cuts partial plans that cannot beat it.
            var bound = new LagrangianBound(instance);
            var incumbentLoad = bound.Incumbent is { Feasible: true } ? bound.Incumbent.ServerLoad : double.PositiveInfinity;
            if (search.Run(instance.SlaSeconds, incumbentLoad, bound) && search.TryLeastLoadWithinSla(out var assignment))
            {
                return instance.EvaluateOwned(assignment);
            }

            Debug.Assert(double.IsPositiveInfinity(incumbentLoad), "The exact pass keeps every plan at least as good as the incumbent.");
        }

        if (!instance.IsMemoryConstrained)
        {
            return instance.EvaluateOwned(FastestUnconstrained(instance));
        }

        var allServer = new SplitSide[instance.LayerCount];
        Array.Fill(allServer, SplitSide.Server);
        using (var search = new FrontierSearch(instance, remainingSeconds, memoryDominance: true))
        {
            if (search.Run(instance.LatencySeconds(allServer)) && search.TryFastest(out var assignment))
            {
                return instance.EvaluateOwned(assignment);
            }
        }

        return instance.EvaluateOwned(allServer);
    }

    /// <summary>The least latency of layers l..L-1 (final download included) after a layer on each side: index l x 2 + side.</summary>
    private static double[] RemainingLowerBounds(SplitInstance instance)
    {
        var layers = instance.LayerSpan;
        var remaining = new double[(layers.Length + 1) * 2];
        remaining[(layers.Length * 2) + (int)SplitSide.Client] = 0;
        remaining[(layers.Length * 2) + (int)SplitSide.Server] = instance.FinalDownloadSeconds;
        for (var l = layers.Length - 1; l >= 0; l--)
        {
            var nextClient = remaining[((l + 1) * 2) + (int)SplitSide.Client];
            var nextServer = remaining[((l + 1) * 2) + (int)SplitSide.Server];
            for (var previous = SplitSide.Client; previous <= SplitSide.Server; previous++)
            {
                remaining[(l * 2) + (int)previous] = Math.Min(
                    layers[l].StepSeconds(SplitSide.Client, previous) + nextClient,
                    layers[l].StepSeconds(SplitSide.Server, previous) + nextServer);
            }
        }

        return remaining;
    }

    /// <summary>The fastest assignment, ties by least load, when memory cannot bind: two states, one best each.</summary>
    private static SplitSide[] FastestUnconstrained(SplitInstance instance)
    {
        var layers = instance.LayerSpan;
        var cameFrom = new SplitSide[layers.Length * 2]; // (layer, side) -> side of the previous layer
        Span<double> latencySeconds = stackalloc double[2];
        Span<double> load = stackalloc double[2];
        Span<double> nextLatencySeconds = stackalloc double[2];
        Span<double> nextLoad = stackalloc double[2];
        for (var l = 0; l < layers.Length; l++)
        {
            for (var side = SplitSide.Client; side <= SplitSide.Server; side++)
            {
                var added = side == SplitSide.Server ? layers[l].ServerLoad : 0;
                var bestLatencySeconds = double.PositiveInfinity;
                var bestLoad = double.PositiveInfinity;
                var bestPrevious = SplitSide.Client;
                for (var previous = SplitSide.Client; previous <= SplitSide.Server; previous++)
                {
                    if (l == 0 && previous == SplitSide.Server)
                    {
                        continue; // The request starts on the client.
                    }

                    var candidateLatencySeconds = (l == 0 ? 0 : latencySeconds[(int)previous]) + layers[l].StepSeconds(side, previous);
                    var candidateLoad = side == SplitSide.Server ? (l == 0 ? 0 : load[(int)previous]) + added : (l == 0 ? 0 : load[(int)previous]);
                    if (SplitPreference.LessLatencyThenLoad(candidateLatencySeconds, candidateLoad, bestLatencySeconds, bestLoad))
                    {
                        (bestLatencySeconds, bestLoad, bestPrevious) = (candidateLatencySeconds, candidateLoad, previous);
                    }
                }

                nextLatencySeconds[(int)side] = bestLatencySeconds;
                nextLoad[(int)side] = bestLoad;
                cameFrom[(l * 2) + (int)side] = bestPrevious;
            }

            nextLatencySeconds.CopyTo(latencySeconds);
            nextLoad.CopyTo(load);
        }

        var clientFinal = latencySeconds[(int)SplitSide.Client];
        var serverFinal = latencySeconds[(int)SplitSide.Server] + instance.FinalDownloadSeconds;
        var last = SplitPreference.LessLatencyThenLoad(serverFinal, load[(int)SplitSide.Server], clientFinal, load[(int)SplitSide.Client])
            ? SplitSide.Server
            : SplitSide.Client;
        var assignment = new SplitSide[layers.Length];
        for (var l = layers.Length - 1; l >= 0; l--)
        {
            assignment[l] = last;
            last = cameFrom[(l * 2) + (int)last];
        }

        return assignment;
    }
}
