using Strata.Core;

namespace Strata.Planning.Split;

/// <summary>Reference: tries all 2^L assignments; the oracle the dynamic programme is tested against.</summary>
/// <remarks>
/// Depth-first over layers, carrying latency, load and memory in layer order (the same additions as
/// <see cref="SplitInstance.Evaluate"/>, so results are bit-equal): O(2^L) time, O(L) memory. Refuses more than
/// <see cref="MaxLayers"/> layers. Picks like every planner: least load among feasible, ties by least latency; when
/// none is feasible, the fastest assignment within the memory budget, ties by least load.
/// </remarks>
public sealed class ExhaustiveSplitPlanner : ISplitPlanner
{
    /// <summary>Most layers this planner accepts (2^24 = 16.7 million assignments, a few tenths of a second).</summary>
    public const int MaxLayers = 24;

    /// <inheritdoc />
    public string Name => "exhaustive";

    /// <inheritdoc />
    /// <exception cref="StrataException">The instance has more than <see cref="MaxLayers"/> layers.</exception>
    public SplitPlan Plan(SplitInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (instance.LayerCount > MaxLayers)
        {
            throw new StrataException(
                $"Exhaustive split search tries 2^L assignments and accepts at most {MaxLayers} layers, but the instance has {instance.LayerCount}; use the 'dp' algorithm, which is exact at any size.");
        }

        var search = new Search(instance);
        search.Visit(0, SplitSide.Client, 0, 0, 0);
        return instance.EvaluateOwned(search.BestAssignment);
    }

    /// <summary>The depth-first enumeration and its incumbents.</summary>
    private sealed class Search
    {
        private readonly SplitInstance _instance;
        private readonly SplitLayer[] _layers;
        private readonly SplitSide[] _current;
        private readonly double _memoryLimitBytes;
        private bool _bestFeasible;
        private double _bestLatencySeconds = double.PositiveInfinity;
        private double _bestLoad = double.PositiveInfinity;

        public Search(SplitInstance instance)
        {
            _instance = instance;
            _layers = [.. instance.Layers];
            _current = new SplitSide[_layers.Length];
            BestAssignment = new SplitSide[_layers.Length];
            Array.Fill(BestAssignment, SplitSide.Server);
            _memoryLimitBytes = instance.MemoryLimitBytes;
        }

        public SplitSide[] BestAssignment { get; }

        public void Visit(int layer, SplitSide previous, double latencySeconds, double load, double memoryBytes)
        {
            if (layer == _layers.Length)
            {
                Leaf(previous == SplitSide.Server ? latencySeconds + _instance.FinalDownloadSeconds : latencySeconds, load);
                return;
            }

            var costs = _layers[layer];
            var clientMemoryBytes = memoryBytes + costs.ClientMemoryBytes;
            if (clientMemoryBytes <= _memoryLimitBytes)
            {
                _current[layer] = SplitSide.Client;
                Visit(layer + 1, SplitSide.Client, latencySeconds + costs.StepSeconds(SplitSide.Client, previous), load, clientMemoryBytes);
            }

            _current[layer] = SplitSide.Server;
            Visit(layer + 1, SplitSide.Server, latencySeconds + costs.StepSeconds(SplitSide.Server, previous), load + costs.ServerLoad, memoryBytes);
        }

        /// <summary>Keeps a complete assignment if it beats the incumbent (over-budget branches never get here).</summary>
        private void Leaf(double latencySeconds, double load)
        {
            var feasible = latencySeconds <= _instance.SlaSeconds;
            var better = feasible
                ? !_bestFeasible || SplitPreference.LessLoadThenLatency(load, latencySeconds, _bestLoad, _bestLatencySeconds)
                : !_bestFeasible && SplitPreference.LessLatencyThenLoad(latencySeconds, load, _bestLatencySeconds, _bestLoad);
            if (better)
            {
                (_bestFeasible, _bestLatencySeconds, _bestLoad) = (feasible, latencySeconds, load);
                _current.CopyTo(BestAssignment, 0);
            }
        }
    }
}
