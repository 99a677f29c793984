using Strata.Core;
using Strata.Core.Network;

namespace Strata.Planning.Swarm;

/// <summary>Builds a <see cref="SwarmInstance"/>: a server mix, clients, and where each sits on the network.</summary>
public static class SwarmLayout
{
    /// <summary>Device ids for <paramref name="serverCount"/> servers, a share <paramref name="fastFraction"/> of them <paramref name="fastDevice"/> (rounded), in a seeded random order.</summary>
    /// <exception cref="StrataException">The count or fraction is out of range.</exception>
    public static string[] Mix(int serverCount, double fastFraction, string fastDevice, string slowDevice, int seed)
    {
        if (serverCount < 1)
        {
            throw new StrataException($"--servers is {serverCount}; expected at least 1.");
        }

        if (!(fastFraction >= 0 && fastFraction <= 1))
        {
            throw new StrataException($"--a100-fraction is {fastFraction}; expected a number from 0 to 1.");
        }

        var fast = (int)Math.Round(serverCount * fastFraction, MidpointRounding.AwayFromZero);
        var devices = Enumerable.Range(0, serverCount).Select(i => i < fast ? fastDevice : slowDevice).ToArray();
        return NodeAssignment.Shuffle(devices, seed);
    }

    /// <summary>
    /// Places servers of the given devices and <paramref name="clientCount"/> clients. On the clustered preset
    /// (<paramref name="clustered"/>), clients go to cluster 0, <paramref name="fastDevice"/> servers to cluster 1 and the
    /// others to cluster 2; on a graph every machine lands on a uniformly drawn node.
    /// </summary>
    public static SwarmInstance Build(
        SwarmCosts costs,
        NodeLatencies network,
        bool clustered,
        IReadOnlyList<string> serverDevices,
        int clientCount,
        int promptTokens,
        int outputTokens,
        int seed,
        string fastDevice = SwarmCostPresets.A100,
        ForwardingMode forwarding = ForwardingMode.HubAndSpoke)
    {
        ArgumentNullException.ThrowIfNull(costs);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(serverDevices);
        if (clientCount < 1)
        {
            throw new StrataException($"--clients is {clientCount}; expected at least 1.");
        }

        // Separate streams so adding servers does not move the clients.
        var serverNodes = clustered
            ? serverDevices.Select(d => d == fastDevice ? ClusteredTopology.FastCluster : ClusteredTopology.SlowCluster).ToArray()
            : NodeAssignment.Uniform(network.NodeCount, serverDevices.Count, seed);
        var clientNodes = clustered
            ? Enumerable.Repeat(ClusteredTopology.ClientCluster, clientCount).ToArray()
            : NodeAssignment.Uniform(network.NodeCount, clientCount, unchecked((seed * 31) + 17));
        var servers = serverDevices.Select((device, i) => new SwarmServer($"s{i}", serverNodes[i], costs.Device(device))).ToArray();
        var clients = clientNodes.Select((node, i) => new SwarmClient($"c{i}", node)).ToArray();
        return new SwarmInstance(costs, network, servers, clients, promptTokens, outputTokens, forwarding);
    }
}
