using Strata.Core;
using Strata.Core.Network;

namespace Strata.Planning.Swarm;

/// <summary>A placement and routing problem: servers and clients on a network, the cost model, the request shape.</summary>
/// <remarks>
/// Immutable. Server and client indices are positions in <see cref="Servers"/> and <see cref="Clients"/>. Time per
/// hop follows Sun et al.: entering server j costs <c>t_cj</c> per decode step (RTT + software overhead + transfer)
/// and <c>t_in_cj</c> for the prefill; each of the <c>k</c> blocks run there costs <c>tau_j</c> per decode step and
/// <c>tau_in_j(l)</c> for the prefill. With <see cref="ForwardingMode.Direct"/> the network part of a hop is the one-way
/// delay from the previous server (or the client) instead of a client round trip, plus the way back at the end.
/// </remarks>
public sealed class SwarmInstance
{
    /// <summary>Creates an instance and checks its numbers.</summary>
    /// <exception cref="StrataException">A count or length is out of range.</exception>
    public SwarmInstance(
        SwarmCosts costs,
        NodeLatencies network,
        IReadOnlyList<SwarmServer> servers,
        IReadOnlyList<SwarmClient> clients,
        int promptTokens,
        int outputTokens,
        ForwardingMode forwarding = ForwardingMode.HubAndSpoke)
    {
        ArgumentNullException.ThrowIfNull(costs);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(clients);
        if (servers.Count == 0)
        {
            throw new StrataException("The swarm has no servers; expected at least one (--servers N).");
        }

        if (clients.Count == 0)
        {
            throw new StrataException("The swarm has no clients; expected at least one (--clients N).");
        }

        if (promptTokens < 1 || outputTokens < 1)
        {
            throw new StrataException($"Prompt and output lengths are {promptTokens} and {outputTokens} tokens; expected at least 1 each.");
        }

        foreach (var node in servers.Select(s => s.Node).Concat(clients.Select(c => c.Node)))
        {
            ArgumentOutOfRangeException.ThrowIfNegative(node);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(node, network.NodeCount);
        }

        foreach (var server in servers)
        {
            if (server.Costs.MemoryBytes < costs.BlockBytes + (costs.CacheBytesPerBlockPerToken * (promptTokens + outputTokens)))
            {
                throw new StrataException(
                    $"Server {server.Name} ({server.Costs.DeviceId}) has {server.Costs.MemoryBytes / 1e9:G3} GB usable, which cannot hold one block of {costs.BlockBytes / 1e9:G3} GB plus one session's cache; use a device with more memory or a lower precision.");
            }
        }

        Costs = costs;
        Network = network;
        Servers = servers;
        Clients = clients;
        PromptTokens = promptTokens;
        OutputTokens = outputTokens;
        Forwarding = forwarding;
    }

    /// <summary>The cost model.</summary>
    public SwarmCosts Costs { get; }

    /// <summary>Delays and bandwidths between network nodes.</summary>
    public NodeLatencies Network { get; }

    /// <summary>The servers.</summary>
    public IReadOnlyList<SwarmServer> Servers { get; }

    /// <summary>The clients.</summary>
    public IReadOnlyList<SwarmClient> Clients { get; }

    /// <summary>Prompt length of a request (<c>l_in</c>).</summary>
    public int PromptTokens { get; }

    /// <summary>Output tokens of a request, the first included (<c>l_max</c>).</summary>
    public int OutputTokens { get; }

    /// <summary>Hub-and-spoke (PETALS) or direct server-to-server forwarding.</summary>
    public ForwardingMode Forwarding { get; }

    /// <summary>Blocks of the model (<c>L</c>).</summary>
    public int LayerCount => Costs.LayerCount;

    /// <summary>Cache of one session in one block, for the whole session (<c>s_c</c>).</summary>
    public double SessionCacheBytesPerBlock => Costs.CacheBytesPerBlockPerToken * (PromptTokens + OutputTokens);

    /// <summary>The same instance with another forwarding mode.</summary>
    public SwarmInstance WithForwarding(ForwardingMode forwarding) =>
        new(Costs, Network, Servers, Clients, PromptTokens, OutputTokens, forwarding);

    /// <summary>The same instance with another server list.</summary>
    public SwarmInstance WithServers(IReadOnlyList<SwarmServer> servers) =>
        new(Costs, Network, servers, Clients, PromptTokens, OutputTokens, Forwarding);

    /// <summary>Most blocks server <paramref name="server"/> can hold with no cache at all.</summary>
    public int MaxBlocks(int server) => (int)Math.Min(Math.Floor(Servers[server].Costs.MemoryBytes / Costs.BlockBytes), LayerCount);

    /// <summary>Session-block cache slots left at <paramref name="server"/> when it hosts <paramref name="blockCount"/> blocks.</summary>
    public int CacheSlots(int server, int blockCount)
    {
        if (blockCount <= 0)
        {
            return 0;
        }

        var free = Servers[server].Costs.MemoryBytes - (blockCount * Costs.BlockBytes);
        return free <= 0 ? 0 : (int)Math.Min(int.MaxValue / 2, Math.Floor(free / SessionCacheBytesPerBlock));
    }

    /// <summary>Decode time of one token through one block at <paramref name="server"/> (<c>tau_j</c>).</summary>
    public double DecodeSecondsPerBlock(int server) => Servers[server].Costs.DecodeSecondsPerBlock;

    /// <summary>Prefill time of one block at <paramref name="server"/> for <paramref name="tokens"/> tokens.</summary>
    public double PrefillSecondsPerBlock(int server, int tokens) => Servers[server].Costs.PrefillSecondsPerBlock(tokens);

    /// <summary>Network and software time per decode step to enter <paramref name="server"/> from <paramref name="previous"/> (-1: the client).</summary>
    public double EnterSecondsPerToken(int client, int previous, int server) => EnterSeconds(client, previous, server, 1) + Costs.PerTokenOverheadSeconds;

    /// <summary>Network and software time of the prefill to enter <paramref name="server"/> from <paramref name="previous"/> (-1: the client).</summary>
    public double EnterPromptSeconds(int client, int previous, int server, int tokens) =>
        EnterSeconds(client, previous, server, tokens) + Costs.PromptOverheadSecondsBase + (Costs.PromptOverheadSecondsPerToken * tokens);

    /// <summary>Time per decode step from the last server back to the client (0 for hub-and-spoke, already in the round trip).</summary>
    public double ExitSecondsPerToken(int client, int last) => ExitSeconds(client, last, 1);

    /// <summary>Time of the prefill's answer from the last server back to the client.</summary>
    public double ExitPromptSeconds(int client, int last) => ExitSeconds(client, last, 1);

    /// <summary>Worst client's per-step time to enter <paramref name="server"/> (<c>t*_j</c>).</summary>
    public double WorstClientSecondsPerToken(int server)
    {
        var worst = 0.0;
        for (var c = 0; c < Clients.Count; c++)
        {
            worst = Math.Max(worst, EnterSecondsPerToken(c, -1, server) + ExitSecondsPerToken(c, server));
        }

        return worst;
    }

    /// <summary>Time of a whole request spent on one hop: prefill plus <c>l_max - 1</c> decode steps, network and compute.</summary>
    public double HopRequestSeconds(int client, int previous, int server, int blocks)
    {
        var steps = OutputTokens - 1;
        return EnterPromptSeconds(client, previous, server, PromptTokens) + (steps * EnterSecondsPerToken(client, previous, server))
            + (blocks * (PrefillSecondsPerBlock(server, PromptTokens) + (steps * DecodeSecondsPerBlock(server))));
    }

    /// <summary>Time of a whole request spent returning from the last server to the client.</summary>
    public double ExitRequestSeconds(int client, int last) =>
        ExitPromptSeconds(client, last) + ((OutputTokens - 1) * ExitSecondsPerToken(client, last));

    private double EnterSeconds(int client, int previous, int server, int tokens)
    {
        var bytes = tokens * Costs.ActivationBytesPerToken;
        var c = Clients[client].Node;
        var s = Servers[server].Node;
        if (Forwarding == ForwardingMode.HubAndSpoke || previous < 0)
        {
            var there = Network.DelaySeconds(c, s) + (bytes / Network.BandwidthBytesPerSecond(c, s));
            return Forwarding == ForwardingMode.HubAndSpoke
                ? there + Network.DelaySeconds(s, c) + (bytes / Network.BandwidthBytesPerSecond(s, c))
                : there;
        }

        var p = Servers[previous].Node;
        return Network.DelaySeconds(p, s) + (bytes / Network.BandwidthBytesPerSecond(p, s));
    }

    private double ExitSeconds(int client, int last, int tokens)
    {
        if (Forwarding == ForwardingMode.HubAndSpoke)
        {
            return 0;
        }

        var s = Servers[last].Node;
        var c = Clients[client].Node;
        return Network.DelaySeconds(s, c) + (tokens * Costs.ActivationBytesPerToken / Network.BandwidthBytesPerSecond(s, c));
    }
}
