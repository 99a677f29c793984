using Strata.Core;
using Strata.Core.Placement;
using Strata.Planning.Placement;
using Strata.Planning.Swarm;
using Strata.Planning.Tests.Swarm;

namespace Strata.Planning.Milp.Tests;

public sealed class MilpPlacementTests
{
    [Theory]
    [InlineData(ForwardingMode.HubAndSpoke)]
    [InlineData(ForwardingMode.Direct)]
    public void Milp_optimum_equals_exhaustive_search_on_random_tiny_instances(ForwardingMode forwarding)
    {
        var solved = 0;
        for (var seed = 0; seed < 12; seed++)
        {
            var random = new Random(seed);
            var servers = random.Next(2, 4);
            var layers = random.Next(2, 5);
            var clients = random.Next(1, 3);
            var instance = TinySwarms.Random(seed, servers, layers, clients, forwarding);
            var sessions = Enumerable.Range(0, random.Next(1, 4)).Select(s => s % clients).ToArray();
            var exhaustive = Exhaustive(instance, sessions);
            if (double.IsPositiveInfinity(exhaustive))
            {
                Assert.Throws<StrataException>(() => MilpPlacement.Solve(instance, sessions, 30));
                continue;
            }

            var milp = MilpPlacement.Solve(instance, sessions, 30);
            Assert.Equal(0, milp.OptimalityGap);
            Assert.Equal(exhaustive, milp.ObjectiveSeconds!.Value, 6);
            Assert.True(milp.Placement.Covers(layers));
            solved++;
        }

        Assert.True(solved >= 6, $"only {solved} feasible instances");
    }

    [Theory]
    [InlineData(5, 10, 1, 4)]
    [InlineData(4, 6, 2, 4)]
    [InlineData(3, 6, 3, 3)]
    [InlineData(5, 6, 2, 2)]
    public void Milp_optimum_equals_an_exhaustive_search_over_every_session_s_path(int servers, int layers, int sessionCount, int instances)
    {
        var feasible = 0;
        for (var seed = 100; seed < 100 + instances; seed++)
        {
            var random = new Random(seed);
            var instance = TinySwarms.Random(seed, servers, layers, clients: 2);
            var sessions = Enumerable.Range(0, sessionCount).Select(r => random.Next(2)).Order().ToArray();
            var exhaustive = ExhaustiveByPaths(instance, sessions);
            if (double.IsPositiveInfinity(exhaustive))
            {
                Assert.Throws<StrataException>(() => MilpPlacement.Solve(instance, sessions, 30));
                continue;
            }

            var milp = MilpPlacement.Solve(instance, sessions, 30);
            Assert.Equal(0, milp.OptimalityGap);
            Assert.Equal(exhaustive, milp.ObjectiveSeconds!.Value, 6);
            feasible++;
        }

        Assert.True(feasible > 0, "every instance was infeasible");
    }

    [Fact]
    public void Cg_bp_never_beats_the_milp()
    {
        for (var seed = 20; seed < 28; seed++)
        {
            var random = new Random(seed);
            var instance = TinySwarms.Random(seed, random.Next(2, 4), random.Next(2, 5), 1);
            var sessions = Enumerable.Repeat(0, random.Next(1, 3)).ToArray();
            if (ConservativeGreedyPlacement.MaxFeasibleConcurrency(instance) < sessions.Length)
            {
                continue;
            }

            var milp = MilpPlacement.Solve(instance, sessions, 30);
            var cgbp = ConservativeGreedyPlacement.PlaceFor(instance, sessions.Length).Placement;
            var cgbpTotal = sessions.Sum(c => TinySwarms.AllPaths(instance, cgbp).Min(p => TinySwarms.PathSeconds(instance, c, p)));
            Assert.True(cgbpTotal >= milp.ObjectiveSeconds!.Value - 1e-6, $"seed {seed}: CG-BP {cgbpTotal} below the MILP optimum {milp.ObjectiveSeconds}");
        }
    }

    [Fact]
    public void An_infeasible_milp_is_a_clear_error()
    {
        var costs = SwarmCostPresets.Bloom176bPaper();
        var instance = SwarmLayout.Build(costs, Core.Network.ClusteredTopology.Create(), true, [SwarmCostPresets.Mig, SwarmCostPresets.Mig], 1, 20, 64, 0);
        var error = Assert.Throws<StrataException>(() => MilpPlacement.Solve(instance, [0], 10));
        Assert.Contains("infeasible", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A second oracle: every combination of one path per session (a chain of distinct servers with growing end blocks),
    /// the placement it implies (each used server's end is shared by every hop on it, its first block is the earliest
    /// entry, unused servers host nothing), memory checked; the least total request time.
    /// </summary>
    private static double ExhaustiveByPaths(SwarmInstance instance, int[] sessions)
    {
        var n = instance.Servers.Count;
        var layers = instance.LayerCount;
        var paths = new List<SwarmHop[]>();
        void Extend(List<SwarmHop> prefix, int reached, int used)
        {
            if (reached == layers)
            {
                paths.Add([.. prefix]);
                return;
            }

            for (var j = 0; j < n; j++)
            {
                if ((used & (1 << j)) != 0)
                {
                    continue;
                }

                for (var end = reached + 1; end <= layers; end++)
                {
                    prefix.Add(new SwarmHop(j, BlockRange.FromBounds(reached, end)));
                    Extend(prefix, end, used | (1 << j));
                    prefix.RemoveAt(prefix.Count - 1);
                }
            }
        }

        Extend([], 0, 0);
        var byClient = Enumerable.Range(0, instance.Clients.Count)
            .Select(c => paths.Select(p => (Path: p, Seconds: TinySwarms.PathSeconds(instance, c, p))).OrderBy(p => p.Seconds).ToArray())
            .ToArray();
        var ends = new int[n];
        var firsts = new int[n];
        var slots = new long[n];
        var best = double.PositiveInfinity;
        Array.Fill(ends, -1);
        void Choose(int r, double cost)
        {
            if (cost >= best)
            {
                return;
            }

            if (r == sessions.Length)
            {
                for (var j = 0; j < n; j++)
                {
                    var m = ends[j] < 0 ? 0 : ends[j] - firsts[j];
                    if (m > instance.MaxBlocks(j) || (m * instance.Costs.BlockBytes) + (slots[j] * instance.SessionCacheBytesPerBlock) > instance.Servers[j].Costs.MemoryBytes + 1e-6)
                    {
                        return;
                    }
                }

                best = cost;
                return;
            }

            foreach (var (path, seconds) in byClient[sessions[r]])
            {
                if (cost + seconds >= best)
                {
                    break;
                }

                var savedEnds = (int[])ends.Clone();
                var savedFirsts = (int[])firsts.Clone();
                var consistent = true;
                foreach (var hop in path)
                {
                    if (ends[hop.Server] >= 0 && ends[hop.Server] != hop.Blocks.End)
                    {
                        consistent = false;
                        break;
                    }

                    firsts[hop.Server] = ends[hop.Server] < 0 ? hop.Blocks.First : Math.Min(firsts[hop.Server], hop.Blocks.First);
                    ends[hop.Server] = hop.Blocks.End;
                    slots[hop.Server] += hop.Blocks.Count;
                }

                if (consistent)
                {
                    Choose(r + 1, cost + seconds);
                }

                foreach (var hop in path.TakeWhile(h => consistent || savedEnds[h.Server] < 0 || savedEnds[h.Server] == h.Blocks.End))
                {
                    slots[hop.Server] -= hop.Blocks.Count;
                }

                Array.Copy(savedEnds, ends, n);
                Array.Copy(savedFirsts, firsts, n);
            }
        }

        Choose(0, 0);
        return best;
    }

    /// <summary>Least total request time over every placement and every path per session, memory checked jointly.</summary>
    private static double Exhaustive(SwarmInstance instance, int[] sessions)
    {
        var n = instance.Servers.Count;
        var layers = instance.LayerCount;
        var options = Enumerable.Range(0, n).Select(j =>
        {
            var list = new List<(int First, int Count)> { (0, 0) };
            for (var m = 1; m <= instance.MaxBlocks(j); m++)
            {
                for (var a = 0; a + m <= layers; a++)
                {
                    list.Add((a, m));
                }
            }

            return list;
        }).ToArray();
        var best = double.PositiveInfinity;
        var choice = new int[n];
        while (true)
        {
            var placement = new SwarmPlacement([.. Enumerable.Range(0, n).Select(j => options[j][choice[j]].First)], [.. Enumerable.Range(0, n).Select(j => options[j][choice[j]].Count)]);
            var paths = TinySwarms.AllPaths(instance, placement);
            if (paths.Count > 0)
            {
                best = Math.Min(best, BestAssignment(instance, placement, paths, sessions, 0, new long[n]));
            }

            var k = 0;
            while (k < n && ++choice[k] == options[k].Count)
            {
                choice[k++] = 0;
            }

            if (k == n)
            {
                return best;
            }
        }
    }

    private static double BestAssignment(SwarmInstance instance, SwarmPlacement placement, List<List<SwarmHop>> paths, int[] sessions, int r, long[] used)
    {
        if (r == sessions.Length)
        {
            for (var j = 0; j < used.Length; j++)
            {
                if ((placement.Blocks(j).Count * instance.Costs.BlockBytes) + (used[j] * instance.SessionCacheBytesPerBlock) > instance.Servers[j].Costs.MemoryBytes + 1e-6)
                {
                    return double.PositiveInfinity;
                }
            }

            return 0;
        }

        var best = double.PositiveInfinity;
        foreach (var path in paths)
        {
            foreach (var hop in path)
            {
                used[hop.Server] += hop.Blocks.Count;
            }

            var rest = BestAssignment(instance, placement, paths, sessions, r + 1, used);
            best = Math.Min(best, rest + TinySwarms.PathSeconds(instance, sessions[r], path));
            foreach (var hop in path)
            {
                used[hop.Server] -= hop.Blocks.Count;
            }
        }

        return best;
    }
}
