using Strata.Core.Network;
using Strata.Core.Placement;
using Strata.Planning.Routing;
using Strata.Planning.Swarm;

namespace Strata.Planning.Live;

/// <summary>
/// A live snapshot of a swarm (the servers a coordinator knows, their load and the client's round trips) as the same
/// <see cref="SwarmInstance"/>, <see cref="SwarmPlacement"/> and <see cref="ISwarmLoad"/> the swarm simulator hands the
/// routing policies, so that the runtime and the simulator route with one code path.
/// </summary>
/// <remarks>
/// <para>The instance covers blocks <c>[0, EndBlock)</c> of the request (ranges are clipped to it). Node 0 is the client,
/// node <c>j + 1</c> server <c>j</c>; the one-way delay client-server is half the server's round trip, transfers are
/// free (the round trip already includes them on loopback or is measured on the wire). Per hop and decode step the
/// software overhead is <see cref="LiveRouteOptions.HopOverheadSeconds"/>, for the prefill the same once.</para>
/// <para>Block times are the servers' reported idle times, times <c>1 + open + pending</c> sessions when
/// <see cref="LiveRouteOptions.LoadScalesCompute"/>: a server of the CPU runtime runs the steps of its sessions on
/// shared cores one after another. Cache slots are session-blocks: <c>free KV bytes / KV bytes per block</c>. When too few
/// are free a live server's release times are unknown (sessions end when their clients close them); the load view then
/// answers "free in <see cref="FullServerWaitSeconds"/>", the penalty PETALS gives a full server, so WS-RR and PETALS
/// price a full server alike and take it only when nothing else covers the blocks.</para>
/// </remarks>
public sealed class LiveSwarm : ISwarmLoad
{
    /// <summary>Wait a policy is told to expect at a server without enough free cache, seconds (<see cref="PetalsRouting.NoCachePenaltySeconds"/>).</summary>
    public const double FullServerWaitSeconds = PetalsRouting.NoCachePenaltySeconds;

    private const double UnlimitedMemoryBytes = 1e18;
    private readonly long _kvBytesPerBlock;

    /// <summary>Builds the snapshot of <paramref name="servers"/> (in this order) for <paramref name="request"/>.</summary>
    public LiveSwarm(IReadOnlyList<LiveServer> servers, LiveRouteRequest request, LiveRouteOptions options)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfZero(request.Blocks.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.PromptTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.OutputTokens, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(request.KvBytesPerBlock);
        options.Validate();
        if (servers.Count == 0)
        {
            throw new ArgumentException("a live swarm needs at least one server", nameof(servers));
        }

        Servers = servers;
        Request = request;
        _kvBytesPerBlock = request.KvBytesPerBlock;
        var n = servers.Count;
        var devices = new Dictionary<string, SwarmDeviceCosts>(StringComparer.Ordinal);
        var swarmServers = new SwarmServer[n];
        var hubDelays = new double[n + 1]; // the client at the hub, each server half its round trip away
        var blocks = new BlockRange[n];
        for (var j = 0; j < n; j++)
        {
            var s = servers[j];
            var load = options.LoadScalesCompute ? 1 + Math.Max(0, s.OpenSessions) : 1;
            var tau = (s.DecodeSecondsPerBlock > 0 ? s.DecodeSecondsPerBlock : options.DefaultDecodeSecondsPerBlock) * load;
            var prefillPerToken = (s.PrefillSecondsPerBlockPerToken > 0 ? s.PrefillSecondsPerBlockPerToken * load : tau);
            var device = new SwarmDeviceCosts($"live:{j}", UnlimitedMemoryBytes, tau, 0, prefillPerToken);
            devices[device.DeviceId] = device;
            swarmServers[j] = new SwarmServer(s.Id, j + 1, device);
            var halfRtt = (s.RttSeconds > 0 ? s.RttSeconds : 0) / 2;
            hubDelays[j + 1] = halfRtt;
            var end = Math.Min(s.Blocks.End, request.Blocks.End);
            blocks[j] = end > s.Blocks.First && end > request.Blocks.First ? BlockRange.FromBounds(s.Blocks.First, end) : default;
        }

        var costs = new SwarmCosts("live", request.Blocks.End, 1, 0, options.HopOverheadSeconds, options.HopOverheadSeconds, 0, 0, devices);
        var network = NodeLatencies.Star("live", ["client", .. servers.Select(s => s.Id)], hubDelays);
        Instance = new SwarmInstance(costs, network, swarmServers, [new SwarmClient("client", 0)], request.PromptTokens, request.OutputTokens);
        Placement = new SwarmPlacement(blocks);
    }

    /// <summary>The servers, by index.</summary>
    public IReadOnlyList<LiveServer> Servers { get; }

    /// <summary>The request the snapshot was built for.</summary>
    public LiveRouteRequest Request { get; }

    /// <summary>The snapshot as a swarm instance (one client, index 0).</summary>
    public SwarmInstance Instance { get; }

    /// <summary>The servers' ranges, clipped to the request's blocks.</summary>
    public SwarmPlacement Placement { get; }

    /// <inheritdoc />
    public bool IsAlive(int server) => true;

    /// <inheritdoc />
    public int FreeSlots(int server)
    {
        if (_kvBytesPerBlock <= 0)
        {
            return int.MaxValue / 2;
        }

        // Sessions routed since the last heartbeat will take a slot per hosted block (at most): reserve them.
        var s = Servers[server];
        var slots = (Math.Max(0, s.FreeKvBytes) / _kvBytesPerBlock) - ((long)Math.Max(0, s.PendingSessions) * s.Blocks.Count);
        return (int)Math.Clamp(slots, 0, int.MaxValue / 2);
    }

    /// <inheritdoc />
    public double SlotsFreeAtSeconds(int server, int slots, double nowSeconds) =>
        FreeSlots(server) >= slots ? nowSeconds : nowSeconds + FullServerWaitSeconds;

    /// <summary>Routes the request with <paramref name="policy"/>; null when the servers leave a gap.</summary>
    public LiveRoute? Route(IRoutingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var route = policy.Route(Instance, Placement, 0, this, 0, Request.Blocks.First);
        if (route is null)
        {
            return null;
        }

        var perToken = route.Hops.Sum(h => Instance.EnterSecondsPerToken(0, -1, h.Server) + Instance.ExitSecondsPerToken(0, h.Server) + (h.Blocks.Count * Instance.DecodeSecondsPerBlock(h.Server)));
        return new LiveRoute([.. route.Hops.Select(h => new LiveHop(Servers[h.Server], h.Blocks))], policy.Name, route.CostSeconds, route.ExpectedWaitSeconds, perToken);
    }
}
