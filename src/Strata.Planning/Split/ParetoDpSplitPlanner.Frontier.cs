using System.Buffers;
using System.Diagnostics;

namespace Strata.Planning.Split;

/// <summary>The frontier search of <see cref="ParetoDpSplitPlanner"/>.</summary>
public sealed partial class ParetoDpSplitPlanner
{
    /// <summary>Relative slack on the latency cut, so a plan that meets the SLA exactly is never cut by the rounding of a lower bound.</summary>
    /// <remarks>The cut only prunes; complete plans are judged with exact latencies, so the slack cannot admit an infeasible plan.</remarks>
    private const double CutSlack = 1e-9;

    /// <summary>Relative slack on the load cut, so rounding never cuts a plan whose load could tie the incumbent's.</summary>
    private const double LoadSlack = 1e-10;

    /// <summary>One partial plan: the totals after some layer and the node of the previous layer it extends.</summary>
    private struct Node
    {
        public double LatencySeconds;
        public double Load;
        public double MemoryBytes;
        public int Parent;
        public SplitSide Side;
    }

    /// <summary>Frontiers of every (layer, side) in one pooled node buffer; layer l's side s is the range [start, end) of index l x 2 + s.</summary>
    private sealed class FrontierSearch : IDisposable
    {
        private readonly SplitInstance _instance;
        private readonly double[] _remainingSeconds;
        private readonly bool _memoryDominance;
        private readonly int[] _rangeStart;
        private readonly int[] _rangeEnd;
        private Node[] _nodes;
        private int _count;
        private double[] _stairLoad;
        private double[] _stairMemoryBytes;
        private int _stairCount;
        private double _minLoad;
        private double _incumbentLoad = double.PositiveInfinity;
        private LagrangianBound? _loadBound;

        public FrontierSearch(SplitInstance instance, double[] remainingSeconds, bool memoryDominance)
        {
            _instance = instance;
            _remainingSeconds = remainingSeconds;
            _memoryDominance = memoryDominance;
            _rangeStart = new int[instance.LayerCount * 2];
            _rangeEnd = new int[instance.LayerCount * 2];
            _nodes = ArrayPool<Node>.Shared.Rent(Math.Max(256, instance.LayerCount * 16));
            _stairLoad = memoryDominance ? ArrayPool<double>.Shared.Rent(256) : [];
            _stairMemoryBytes = memoryDominance ? ArrayPool<double>.Shared.Rent(256) : [];
        }

        /// <summary>Builds every frontier, cutting partial plans that cannot finish within <paramref name="limitSeconds"/>.</summary>
        /// <param name="limitSeconds">Latency no complete plan may exceed.</param>
        /// <param name="incumbentLoad">Load of a known feasible plan: partial plans that cannot reach it are cut (+infinity: none known).</param>
        /// <param name="loadBound">Lower bounds on the remaining load and feasible completions that lower the incumbent; <see langword="null"/> for none.</param>
        /// <returns><see langword="false"/> when some layer has no partial plan left (nothing can finish in time).</returns>
        public bool Run(double limitSeconds, double incumbentLoad = double.PositiveInfinity, LagrangianBound? loadBound = null)
        {
            var layers = _instance.LayerSpan;
            var cutSeconds = limitSeconds + (Math.Abs(limitSeconds) * CutSlack);
            var memoryLimitBytes = _instance.MemoryLimitBytes;
            _incumbentLoad = incumbentLoad;
            _loadBound = loadBound;
            _count = 0;
            var first = layers[0];
            for (var side = SplitSide.Client; side <= SplitSide.Server; side++)
            {
                _rangeStart[(int)side] = _count;
                var latencySeconds = 0.0 + first.StepSeconds(side, SplitSide.Client);
                var load = side == SplitSide.Server ? 0.0 + first.ServerLoad : 0.0;
                var memoryBytes = side == SplitSide.Client ? 0.0 + first.ClientMemoryBytes : 0.0;
                if (memoryBytes <= memoryLimitBytes
                    && latencySeconds + _remainingSeconds[2 + (int)side] <= cutSeconds
                    && !Hopeless(1, side, load, latencySeconds, cutSeconds))
                {
                    _nodes[_count++] = new Node { LatencySeconds = latencySeconds, Load = load, MemoryBytes = memoryBytes, Parent = -1, Side = side };
                }

                _rangeEnd[(int)side] = _count;
            }

            for (var l = 1; l < layers.Length; l++)
            {
                var previousCount = _rangeEnd[((l - 1) * 2) + 1] - _rangeStart[(l - 1) * 2];
                if (previousCount == 0)
                {
                    return false;
                }

                for (var side = SplitSide.Client; side <= SplitSide.Server; side++)
                {
                    EnsureCapacity(_count + previousCount, previousCount);
                    _rangeStart[(l * 2) + (int)side] = _count;
                    Extend(l, side, cutSeconds, memoryLimitBytes);
                    _rangeEnd[(l * 2) + (int)side] = _count;
                }
            }

            var last = (layers.Length - 1) * 2;
            return _rangeEnd[last + 1] > _rangeStart[last];
        }

        /// <summary>The least-load complete plan that meets the SLA (ties: least latency), if any.</summary>
        public bool TryLeastLoadWithinSla(out SplitSide[] assignment)
        {
            var slaSeconds = _instance.SlaSeconds;
            var best = -1;
            double bestLoad = double.PositiveInfinity, bestLatencySeconds = double.PositiveInfinity;
            var last = (_instance.LayerCount - 1) * 2;
            for (var i = _rangeStart[last]; i < _rangeEnd[last + 1]; i++)
            {
                var latencySeconds = FinalLatencySeconds(i);
                if (latencySeconds <= slaSeconds && SplitPreference.LessLoadThenLatency(_nodes[i].Load, latencySeconds, bestLoad, bestLatencySeconds))
                {
                    (best, bestLoad, bestLatencySeconds) = (i, _nodes[i].Load, latencySeconds);
                }
            }

            assignment = best >= 0 ? Reconstruct(best) : [];
            return best >= 0;
        }

        /// <summary>The fastest complete plan (ties: least load), if any survived the cut.</summary>
        public bool TryFastest(out SplitSide[] assignment)
        {
            var best = -1;
            double bestLoad = double.PositiveInfinity, bestLatencySeconds = double.PositiveInfinity;
            var last = (_instance.LayerCount - 1) * 2;
            for (var i = _rangeStart[last]; i < _rangeEnd[last + 1]; i++)
            {
                var latencySeconds = FinalLatencySeconds(i);
                if (SplitPreference.LessLatencyThenLoad(latencySeconds, _nodes[i].Load, bestLatencySeconds, bestLoad))
                {
                    (best, bestLoad, bestLatencySeconds) = (i, _nodes[i].Load, latencySeconds);
                }
            }

            assignment = best >= 0 ? Reconstruct(best) : [];
            return best >= 0;
        }

        public void Dispose()
        {
            ArrayPool<Node>.Shared.Return(_nodes);
            if (_memoryDominance)
            {
                ArrayPool<double>.Shared.Return(_stairLoad);
                ArrayPool<double>.Shared.Return(_stairMemoryBytes);
            }
        }

        /// <summary>Merges the previous layer's two frontiers (each sorted by latency) into layer <paramref name="l"/>'s frontier for <paramref name="side"/>.</summary>
        private void Extend(int l, SplitSide side, double cutSeconds, double memoryLimitBytes)
        {
            var layer = _instance.LayerSpan[l];
            var fromClient = layer.StepSeconds(side, SplitSide.Client);
            var fromServer = layer.StepSeconds(side, SplitSide.Server);
            var onServer = side == SplitSide.Server;
            var remainingSeconds = _remainingSeconds[((l + 1) * 2) + (int)side];
            var i = _rangeStart[(l - 1) * 2];
            var iEnd = _rangeEnd[(l - 1) * 2];
            var j = _rangeStart[((l - 1) * 2) + 1];
            var jEnd = _rangeEnd[((l - 1) * 2) + 1];
            _minLoad = double.PositiveInfinity;
            _stairCount = 0;
            var nodes = _nodes;
            while (i < iEnd || j < jEnd)
            {
                bool takeClient;
                if (j >= jEnd || i >= iEnd)
                {
                    takeClient = i < iEnd;
                }
                else
                {
                    var viaClient = nodes[i].LatencySeconds + fromClient;
                    var viaServer = nodes[j].LatencySeconds + fromServer;
                    takeClient = viaClient < viaServer || (viaClient == viaServer && nodes[i].Load <= nodes[j].Load);
                }

                var parent = takeClient ? i++ : j++;
                var latencySeconds = nodes[parent].LatencySeconds + (takeClient ? fromClient : fromServer);
                if (latencySeconds + remainingSeconds > cutSeconds)
                {
                    // Each input is sorted by latency: the rest of this one cannot finish in time either.
                    if (takeClient)
                    {
                        i = iEnd;
                    }
                    else
                    {
                        j = jEnd;
                    }

                    continue;
                }

                ref readonly var from = ref nodes[parent];
                var memoryBytes = onServer ? from.MemoryBytes : from.MemoryBytes + layer.ClientMemoryBytes;
                if (memoryBytes > memoryLimitBytes)
                {
                    continue;
                }

                var load = onServer ? from.Load + layer.ServerLoad : from.Load;
                if (Hopeless(l + 1, side, load, latencySeconds, cutSeconds) || Dominated(load, memoryBytes))
                {
                    continue;
                }

                if (_loadBound is not null)
                {
                    _incumbentLoad = Math.Min(_incumbentLoad, _loadBound.CompletedLoad(l + 1, side, load, latencySeconds, memoryBytes, _instance.SlaSeconds, memoryLimitBytes));
                }

                Debug.Assert(_count < nodes.Length, "EnsureCapacity reserved room for every candidate.");
                nodes[_count++] = new Node { LatencySeconds = latencySeconds, Load = load, MemoryBytes = memoryBytes, Parent = parent, Side = side };
            }
        }

        /// <summary>Whether a faster point already beats (load, memory); records the point when not.</summary>
        /// <remarks>Points arrive in latency order, so "faster" is implied and only load (and memory) remain to compare.</remarks>
        private bool Dominated(double load, double memoryBytes)
        {
            if (!_memoryDominance)
            {
                if (load >= _minLoad)
                {
                    return true;
                }

                _minLoad = load;
                return false;
            }

            // Staircase of the kept points' (load, memory): load strictly rising, memory strictly falling.
            var low = 0;
            var high = _stairCount;
            while (low < high)
            {
                var middle = (low + high) >>> 1;
                if (_stairLoad[middle] <= load)
                {
                    low = middle + 1;
                }
                else
                {
                    high = middle;
                }
            }

            if (low > 0 && _stairMemoryBytes[low - 1] <= memoryBytes)
            {
                return true;
            }

            var removeStart = low > 0 && _stairLoad[low - 1] == load ? low - 1 : low;
            var removeEnd = low;
            while (removeEnd < _stairCount && _stairMemoryBytes[removeEnd] >= memoryBytes)
            {
                removeEnd++;
            }

            var tail = _stairCount - removeEnd;
            if (removeEnd != removeStart + 1 && tail > 0)
            {
                Array.Copy(_stairLoad, removeEnd, _stairLoad, removeStart + 1, tail);
                Array.Copy(_stairMemoryBytes, removeEnd, _stairMemoryBytes, removeStart + 1, tail);
            }

            _stairLoad[removeStart] = load;
            _stairMemoryBytes[removeStart] = memoryBytes;
            _stairCount = removeStart + 1 + tail;
            return false;
        }

        /// <summary>Whether a partial plan cannot beat the incumbent, whatever layers <paramref name="next"/>..L-1 do.</summary>
        /// <remarks>Conservative: a relative slack keeps plans whose final load could equal the incumbent's (they may be faster).</remarks>
        private bool Hopeless(int next, SplitSide side, double load, double latencySeconds, double cutSeconds)
        {
            return load > _incumbentLoad + (LoadSlack * (Math.Abs(_incumbentLoad) + Math.Abs(load)))
                || (_loadBound is not null && _loadBound.Exceeds(next, side, load, latencySeconds, cutSeconds, _incumbentLoad));
        }

        private double FinalLatencySeconds(int node) => _nodes[node].Side == SplitSide.Server
            ? _nodes[node].LatencySeconds + _instance.FinalDownloadSeconds
            : _nodes[node].LatencySeconds;

        private SplitSide[] Reconstruct(int node)
        {
            var assignment = new SplitSide[_instance.LayerCount];
            for (var l = assignment.Length - 1; l >= 0; l--)
            {
                Debug.Assert(node >= 0, "Every node of layer l > 0 has a parent.");
                assignment[l] = _nodes[node].Side;
                node = _nodes[node].Parent;
            }

            return assignment;
        }

        /// <summary>Grows the node buffer to hold <paramref name="nodes"/> and the staircase to hold <paramref name="candidates"/>.</summary>
        private void EnsureCapacity(int nodes, int candidates)
        {
            if (nodes > _nodes.Length)
            {
                var grown = ArrayPool<Node>.Shared.Rent(Math.Max(nodes, _nodes.Length * 2));
                Array.Copy(_nodes, grown, _count);
                ArrayPool<Node>.Shared.Return(_nodes);
                _nodes = grown;
            }

            if (_memoryDominance && candidates > _stairLoad.Length)
            {
                var size = Math.Max(candidates, _stairLoad.Length * 2);
                ArrayPool<double>.Shared.Return(_stairLoad);
                ArrayPool<double>.Shared.Return(_stairMemoryBytes);
                _stairLoad = ArrayPool<double>.Shared.Rent(size);
                _stairMemoryBytes = ArrayPool<double>.Shared.Rent(size);
            }
        }
    }
}
