using Strata.Core.Network;
using Strata.Core.Placement;
using Strata.Planning.Routing;
using Strata.Planning.Swarm;

namespace Strata.Planning.Tests.Swarm;

/// <summary>Random small swarms whose numbers are whole milliseconds and whole kilobytes, so the MILP's scaling is exact.</summary>
internal static class TinySwarms
{
    public static SwarmInstance Random(int seed, int servers, int layers, int clients = 1, ForwardingMode forwarding = ForwardingMode.HubAndSpoke, double cacheBytesPerBlockPerToken = 10)
    {
        var random = new Random(seed);
        var nodes = servers + clients;
        var delay = new double[nodes, nodes];
        var bandwidth = new double[nodes, nodes];
        for (var i = 0; i < nodes; i++)
        {
            for (var j = i; j < nodes; j++)
            {
                delay[i, j] = delay[j, i] = i == j ? 0 : random.Next(1, 40) * 1e-3;
                bandwidth[i, j] = bandwidth[j, i] = 1e9;
            }
        }

        var network = new NodeLatencies("tiny", [.. Enumerable.Range(0, nodes).Select(i => $"n{i}")], delay, bandwidth);
        var devices = new Dictionary<string, SwarmDeviceCosts>();
        var serverList = new List<SwarmServer>();
        for (var j = 0; j < servers; j++)
        {
            // s_m = 3 kB, s_c = 1 kB per session-block: memory of 4..(3 L + 6) kB.
            var device = new SwarmDeviceCosts($"d{j}", 1000.0 * random.Next(4, (3 * layers) + 7), random.Next(1, 20) * 1e-3, random.Next(0, 30) * 1e-3, 0);
            devices[device.DeviceId] = device;
            serverList.Add(new SwarmServer($"s{j}", j, device));
        }

        var costs = new SwarmCosts("tiny", layers, 3000, cacheBytesPerBlockPerToken, 0.010, 0.005, 0, 0, devices);
        var clientList = Enumerable.Range(0, clients).Select(c => new SwarmClient($"c{c}", servers + c)).ToArray();
        return new SwarmInstance(costs, network, serverList, clientList, 50, 50, forwarding);
    }

    /// <summary>Every path (as hop lists) from the client through <paramref name="placement"/>, by depth-first search.</summary>
    public static List<List<SwarmHop>> AllPaths(SwarmInstance instance, SwarmPlacement placement, int firstBlock = 0)
    {
        var paths = new List<List<SwarmHop>>();
        void Extend(List<SwarmHop> prefix, int reached)
        {
            if (reached == instance.LayerCount)
            {
                paths.Add([.. prefix]);
                return;
            }

            for (var j = 0; j < placement.ServerCount; j++)
            {
                if (placement.Blocks(j).Count > 0 && placement.Blocks(j).First <= reached && placement.Blocks(j).End > reached)
                {
                    prefix.Add(new SwarmHop(j, BlockRange.FromBounds(reached, placement.Blocks(j).End)));
                    Extend(prefix, placement.Blocks(j).End);
                    prefix.RemoveAt(prefix.Count - 1);
                }
            }
        }

        Extend([], firstBlock);
        return paths;
    }

    /// <summary>Whole-request seconds of <paramref name="path"/> for <paramref name="client"/> (the MILP's and shortest path's cost).</summary>
    public static double PathSeconds(SwarmInstance instance, int client, IReadOnlyList<SwarmHop> path)
    {
        double total = 0;
        var previous = -1;
        foreach (var hop in path)
        {
            total += instance.HopRequestSeconds(client, previous, hop.Server, hop.Blocks.Count);
            previous = hop.Server;
        }

        return total + instance.ExitRequestSeconds(client, previous);
    }

    /// <summary>Per-decode-step seconds of <paramref name="path"/> (Theorem 2's quantity).</summary>
    public static double PerTokenSeconds(SwarmInstance instance, int client, IReadOnlyList<SwarmHop> path)
    {
        double total = 0;
        var previous = -1;
        foreach (var hop in path)
        {
            total += instance.EnterSecondsPerToken(client, previous, hop.Server) + (hop.Blocks.Count * instance.DecodeSecondsPerBlock(hop.Server));
            previous = hop.Server;
        }

        return total + instance.ExitSecondsPerToken(client, previous);
    }

    /// <summary>A random placement (each server a random range within its memory, possibly empty).</summary>
    public static SwarmPlacement RandomPlacement(SwarmInstance instance, Random random)
    {
        var n = instance.Servers.Count;
        var firsts = new int[n];
        var counts = new int[n];
        for (var j = 0; j < n; j++)
        {
            counts[j] = random.Next(0, Math.Min(instance.MaxBlocks(j), instance.LayerCount) + 1);
            firsts[j] = random.Next(0, instance.LayerCount - counts[j] + 1);
        }

        return new SwarmPlacement(firsts, counts);
    }

    /// <summary>An idle load as the routing policies see it.</summary>
    public static ISwarmLoad Idle => IdleSwarmLoad.Instance;
}
