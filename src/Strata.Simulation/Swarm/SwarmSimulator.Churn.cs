using Strata.Core;
using Strata.Core.Placement;
using Strata.Planning.Placement;
using Strata.Planning.Swarm;

namespace Strata.Simulation.Swarm;

/// <summary>Churn: servers going down and up, sessions re-routing, the placement reacting.</summary>
public sealed partial class SwarmSimulator
{
    private bool IsPetalsFamily => _placementPolicy is PetalsPlacement;

    private void ServerDown(int server, bool backOff)
    {
        if (!_alive[server])
        {
            return;
        }

        _alive[server] = false;
        var broken = _holders[server].ToArray();
        foreach (var session in broken)
        {
            Detach(session, server);
        }

        var stranded = _pending.Where(s => s.Hops.Skip(s.HeldHops).Any(h => h.Server == server)).ToArray();
        foreach (var session in stranded)
        {
            session.Pending = false;
            _pending.Remove(session);
            session.Hops = [.. session.Hops.Take(session.HeldHops)];
        }

        SetCapacities();
        var liveCovers = LiveCovers(_placement);
        if (!liveCovers)
        {
            React(joined: null);
        }

        var reason = $"server {_instance.Servers[server].Name} {(backOff ? "failed" : "left")}";
        foreach (var session in broken)
        {
            Reroute(session, backOff, reason);
        }

        foreach (var session in stranded)
        {
            RouteAndQueue(session, NextBlock(session));
        }
    }

    private void ServerUp(int server)
    {
        if (_alive[server])
        {
            return;
        }

        _alive[server] = true;
        React(joined: server);
    }

    private void Rebalance()
    {
        if (IsPetalsFamily)
        {
            Apply(PetalsPlacement.Rebalance(_instance, _placement, j => _alive[j]));
        }
    }

    private void React(int? joined)
    {
        if (IsPetalsFamily)
        {
            var placement = _placement;
            if (joined is { } j)
            {
                var count = Math.Max(1, PetalsPlacement.BlockCounts(_instance)[j]);
                var throughput = PetalsPlacement.Throughputs(_instance, placement, s => _alive[s] && s != j);
                placement = placement.With(j, new BlockRange(PetalsPlacement.WeakestWindow(throughput, count), count));
            }

            Apply(PetalsPlacement.Rebalance(_instance, placement, s => _alive[s]));
            return;
        }

        // CG-BP (and the MILP, re-planned online with CG-BP): the live servers, R from the load.
        var live = Enumerable.Range(0, _alive.Length).Where(j => _alive[j]).ToArray();
        if (live.Length == 0)
        {
            return;
        }

        try
        {
            var sub = _instance.WithServers([.. live.Select(j => _instance.Servers[j])]);
            var planned = new ConservativeGreedyPlacement().Place(sub, _options.RateRequestsPerSecond).Placement;
            var blocks = new BlockRange[_alive.Length];
            for (var i = 0; i < live.Length; i++)
            {
                blocks[live[i]] = planned.Blocks(i);
            }

            Apply(new SwarmPlacement(blocks));
        }
        catch (StrataException)
        {
            // The live servers cannot cover the model: keep serving what can be served; sessions back off.
        }
    }

    private void Apply(SwarmPlacement next)
    {
        var moved = Enumerable.Range(0, _alive.Length)
            .Where(j => _alive[j] && next.Blocks(j) != _placement.Blocks(j))
            .ToArray();
        if (moved.Length == 0)
        {
            return;
        }

        var broken = new List<SwarmSession>();
        foreach (var j in moved)
        {
            foreach (var session in _holders[j].ToArray())
            {
                Detach(session, j);
                broken.Add(session);
            }
        }

        var stranded = _pending.Where(s => s.Hops.Skip(s.HeldHops).Any(h => moved.Contains(h.Server))).ToArray();
        foreach (var session in stranded)
        {
            session.Pending = false;
            _pending.Remove(session);
            session.Hops = [.. session.Hops.Take(session.HeldHops)];
        }

        _placement = next;
        _replans++;
        SetCapacities();
        foreach (var session in broken.Distinct())
        {
            Reroute(session, backOff: false, "its server moved to other blocks");
        }

        foreach (var session in stranded)
        {
            RouteAndQueue(session, NextBlock(session));
        }
    }

    /// <summary>Stops a session at its hop on <paramref name="server"/>: that hop and the later ones release their slots (all of them if no token is out yet).</summary>
    private void Detach(SwarmSession session, int server)
    {
        var index = session.Hops.FindIndex(h => h.Server == server);
        if (index < 0 || index >= session.HeldHops)
        {
            return;
        }

        var tokens = session.Running ? session.TokensAt(_now, _instance.OutputTokens) : session.TokensBefore;
        if (session.Running)
        {
            session.Running = false;
            session.Version++;
        }

        var cut = tokens == 0 ? 0 : index;
        for (var h = cut; h < session.HeldHops; h++)
        {
            var hop = session.Hops[h];
            if (_holders[hop.Server].Remove(session))
            {
                _freeSlots[hop.Server] += hop.Blocks.Count;
            }
        }

        session.HeldHops = cut;
        session.Hops = [.. session.Hops.Take(cut)];
        session.TokensBefore = tokens;
        session.Pending = false;
        _pending.Remove(session);
    }

    private void Reroute(SwarmSession session, bool backOff, string reason)
    {
        if (session.Done || session.Pending)
        {
            return;
        }

        if (backOff)
        {
            BackOff(session, reason);
        }
        else
        {
            session.Retries++;
            session.Version++;
            RouteAndQueue(session, NextBlock(session));
        }
    }

    private static int NextBlock(SwarmSession session) => session.HeldHops > 0 ? session.Hops[session.HeldHops - 1].Blocks.End : 0;

    private bool LiveCovers(SwarmPlacement placement)
    {
        var covered = new bool[_instance.LayerCount];
        for (var j = 0; j < placement.ServerCount; j++)
        {
            if (_alive[j])
            {
                var blocks = placement.Blocks(j);
                for (var b = blocks.First; b < blocks.End; b++)
                {
                    covered[b] = true;
                }
            }
        }

        return covered.All(c => c);
    }
}
