namespace Strata.Planning.Split;

/// <summary>The Lagrangian lower bound on remaining server load that lets <see cref="ParetoDpSplitPlanner"/> cut hopeless partial plans.</summary>
public sealed partial class ParetoDpSplitPlanner
{
    /// <summary>Lower bounds on the least load of a completion within a latency budget, from Lagrangian relaxation of the SLA.</summary>
    /// <remarks>
    /// For a multiplier λ >= 0 and any completion c of layers k..L-1 that fits a budget B:
    /// load(c) >= load(c) + λ (latency(c) - B) >= h_λ(k, side) - λ B, where h_λ(k, side) is the least
    /// load + λ x latency over all completions (transfers and final download included): a two-state backward
    /// programme, O(L) per multiplier. The multipliers sit around λ*, the smallest one whose unconstrained optimum
    /// meets the SLA (found by bisection), which is where the bound is tightest for the whole instance; that optimum
    /// is also a good incumbent. Memory is relaxed away (its multiplier is 0), so the bound holds with a budget too.
    /// </remarks>
    private sealed class LagrangianBound
    {
        private const double Margin = 1e-9;
        private static readonly double[] MultiplierScales = [0.25, 0.5, 1, 2, 4];
        private readonly int _stride;
        private readonly double[] _multipliers;
        private readonly double[] _leastValue; // (multiplier, k in 0..L, side): least load + λ latency of layers k..L-1
        private readonly double[] _completionSeconds; // same index: latency of the completion that achieves it
        private readonly double[] _completionLoad;    // same index: its server load
        private readonly double[] _completionBytes;   // same index: its client memory

        public LagrangianBound(SplitInstance instance)
        {
            var layers = instance.LayerSpan;
            _stride = (layers.Length + 1) * 2;
            var scale = Scale(layers);
            var (low, high) = (scale * 1e-9, scale * 1e9);
            var incumbentSides = new SplitSide[layers.Length];
            var work = new double[_stride];
            var choice = new SplitSide[_stride];
            _completionSeconds = [];
            _completionLoad = [];
            _completionBytes = [];
            var highMeetsSla = LatencyOfOptimum(instance, high, work, choice, incumbentSides) <= instance.SlaSeconds;
            for (var i = 0; i < 60 && highMeetsSla && high > low * (1 + 1e-6); i++)
            {
                var middle = Math.Sqrt(low * high);
                if (LatencyOfOptimum(instance, middle, work, choice, incumbentSides) <= instance.SlaSeconds)
                {
                    high = middle;
                }
                else
                {
                    low = middle;
                }
            }

            // When even the latency-first optimum misses the SLA there is no incumbent, but the bound still holds.
            Incumbent = highMeetsSla && LatencyOfOptimum(instance, high, work, choice, incumbentSides) <= instance.SlaSeconds
                ? instance.EvaluateOwned(incumbentSides)
                : null;
            _multipliers = new double[MultiplierScales.Length];
            _leastValue = new double[MultiplierScales.Length * _stride];
            _completionSeconds = new double[MultiplierScales.Length * _stride];
            _completionLoad = new double[MultiplierScales.Length * _stride];
            _completionBytes = new double[MultiplierScales.Length * _stride];
            for (var m = 0; m < _multipliers.Length; m++)
            {
                _multipliers[m] = high * MultiplierScales[m];
                LeastValues(instance, _multipliers[m], _leastValue.AsSpan(m * _stride, _stride), choice);
                Completions(instance, choice, m * _stride);
            }
        }

        /// <summary>
        /// The least load of a known feasible completion of a partial plan: for each multiplier, the completion that
        /// minimises load + λ latency, when it meets the SLA and the budget with a relative margin of 1e-9 (so rounding
        /// cannot make it miss); +infinity when none does.
        /// </summary>
        public double CompletedLoad(int next, SplitSide side, double load, double latencySeconds, double memoryBytes, double slaSeconds, double memoryLimitBytes)
        {
            var index = (next * 2) + (int)side;
            var best = double.PositiveInfinity;
            var latencyLimit = slaSeconds - (Margin * Math.Abs(slaSeconds));
            var memoryLimit = memoryLimitBytes - (Margin * memoryLimitBytes);
            for (var m = 0; m < _multipliers.Length; m++)
            {
                var at = (m * _stride) + index;
                if (latencySeconds + _completionSeconds[at] <= latencyLimit && memoryBytes + _completionBytes[at] <= memoryLimit)
                {
                    best = Math.Min(best, load + _completionLoad[at]);
                }
            }

            return best;
        }

        /// <summary>Latency, load and memory of the completions <paramref name="choice"/> encodes, from the last layer back.</summary>
        private void Completions(SplitInstance instance, SplitSide[] choice, int offset)
        {
            var layers = instance.LayerSpan;
            var end = offset + (layers.Length * 2);
            _completionSeconds[end + (int)SplitSide.Client] = 0;
            _completionSeconds[end + (int)SplitSide.Server] = instance.FinalDownloadSeconds;
            for (var k = layers.Length - 1; k >= 0; k--)
            {
                for (var previous = SplitSide.Client; previous <= SplitSide.Server; previous++)
                {
                    var index = (k * 2) + (int)previous;
                    var side = choice[index];
                    var next = offset + ((k + 1) * 2) + (int)side;
                    _completionSeconds[offset + index] = layers[k].StepSeconds(side, previous) + _completionSeconds[next];
                    _completionLoad[offset + index] = (side == SplitSide.Server ? layers[k].ServerLoad : 0) + _completionLoad[next];
                    _completionBytes[offset + index] = (side == SplitSide.Client ? layers[k].ClientMemoryBytes : 0) + _completionBytes[next];
                }
            }
        }

        /// <summary>The unconstrained optimum at λ*, evaluated: it meets the SLA and may or may not fit the memory budget; <see langword="null"/> when even the latency-first optimum misses the SLA.</summary>
        public SplitPlan? Incumbent { get; }

        /// <summary>Whether every completion of a partial plan (<paramref name="load"/>, <paramref name="latencySeconds"/>) after layer next - 1 on <paramref name="side"/> that finishes by <paramref name="cutSeconds"/> has load above <paramref name="incumbentLoad"/>.</summary>
        public bool Exceeds(int next, SplitSide side, double load, double latencySeconds, double cutSeconds, double incumbentLoad)
        {
            var budgetSeconds = cutSeconds - latencySeconds;
            var index = (next * 2) + (int)side;
            for (var m = 0; m < _multipliers.Length; m++)
            {
                var multiplier = _multipliers[m];
                var least = _leastValue[(m * _stride) + index];
                var bound = load + least - (multiplier * budgetSeconds);
                var slack = LoadSlack * (Math.Abs(incumbentLoad) + Math.Abs(load) + Math.Abs(least) + (multiplier * (Math.Abs(cutSeconds) + Math.Abs(latencySeconds))));
                if (bound > incumbentLoad + slack)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>A multiplier scale that converts seconds into load units: total load over total time.</summary>
        private static double Scale(ReadOnlySpan<SplitLayer> layers)
        {
            double load = 0, seconds = 0;
            foreach (var layer in layers)
            {
                load += layer.ServerLoad;
                seconds += layer.ClientSeconds + layer.ServerSeconds + layer.UploadSeconds + layer.DownloadSeconds;
            }

            return load > 0 && seconds > 0 ? load / seconds : 1;
        }

        /// <summary>Fills <paramref name="least"/> (index k x 2 + side) with the least load + λ latency of layers k..L-1, and <paramref name="choice"/> with the side that achieves it.</summary>
        private static void LeastValues(SplitInstance instance, double multiplier, Span<double> least, Span<SplitSide> choice)
        {
            var layers = instance.LayerSpan;
            var end = layers.Length * 2;
            least[end + (int)SplitSide.Client] = 0;
            least[end + (int)SplitSide.Server] = multiplier * instance.FinalDownloadSeconds;
            for (var k = layers.Length - 1; k >= 0; k--)
            {
                var layer = layers[k];
                var nextClient = least[((k + 1) * 2) + (int)SplitSide.Client];
                var nextServer = least[((k + 1) * 2) + (int)SplitSide.Server];
                for (var previous = SplitSide.Client; previous <= SplitSide.Server; previous++)
                {
                    var viaClient = (multiplier * layer.StepSeconds(SplitSide.Client, previous)) + nextClient;
                    var viaServer = layer.ServerLoad + (multiplier * layer.StepSeconds(SplitSide.Server, previous)) + nextServer;
                    var index = (k * 2) + (int)previous;
                    (least[index], choice[index]) = viaClient <= viaServer ? (viaClient, SplitSide.Client) : (viaServer, SplitSide.Server);
                }
            }
        }

        /// <summary>The latency of the assignment minimising load + λ latency (written to <paramref name="sides"/>).</summary>
        private static double LatencyOfOptimum(SplitInstance instance, double multiplier, double[] least, SplitSide[] choice, SplitSide[] sides)
        {
            LeastValues(instance, multiplier, least, choice);
            var previous = SplitSide.Client;
            for (var k = 0; k < sides.Length; k++)
            {
                sides[k] = choice[(k * 2) + (int)previous];
                previous = sides[k];
            }

            return instance.LatencySeconds(sides);
        }
    }
}
