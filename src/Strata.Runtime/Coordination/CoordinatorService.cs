using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Strata.Core.Placement;
using Strata.Planning.Live;
using Strata.Planning.Routing;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Coordination;

/// <summary>The gRPC face of the coordinator: checks every field, the join token, then reads or updates the registry.</summary>
internal sealed class CoordinatorService : Coordinator.CoordinatorBase
{
    private const int MaxIdLength = 128;
    private const int MaxUrlLength = 2048;
    private const int MaxLayers = 1 << 16;
    private const long MaxKvCapacityBytes = 1L << 50; // 1 PiB: far past any server, short of overflow when summed

    /// <summary>The trailer that marks a refusal by a coordinator whose registry copy may be stale: clients fail over on it.</summary>
    public const string StaleRegistryTrailer = "strata-registry-stale";

    private readonly IServerRegistry _registry;
    private readonly CoordinatorOptions _options;
    private readonly byte[]? _joinToken;
    private readonly CoordinatorMetrics _metrics;
    private readonly ILogger _logger;

    public CoordinatorService(IServerRegistry registry, CoordinatorOptions options, CoordinatorMetrics metrics, ILogger<CoordinatorHost> logger)
    {
        _registry = registry;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _joinToken = string.IsNullOrEmpty(options.JoinToken) ? null : Encoding.UTF8.GetBytes(options.JoinToken);
    }

    /// <summary>The refusal of a coordinator whose copy of <paramref name="registry"/> may be stale: UNAVAILABLE, with the trailer clients fail over on.</summary>
    public static RpcException StaleRegistry(string registry) => new(
        new Status(StatusCode.Unavailable, $"This coordinator has not reached its registry ({registry}) recently and its copy may be stale; it refuses calls until etcd answers again. Use another coordinator."),
        new Metadata { { StaleRegistryTrailer, "1" } });

    public override async Task<RegisterReply> Register(RegisterRequest request, ServerCallContext context)
    {
        CheckToken(request.JoinToken);
        CheckId(request.ServerId);
        if (request.Url.Length > MaxUrlLength || !Uri.TryCreate(request.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw Invalid($"url '{Shorten(request.Url)}' is not an absolute http or https URL.");
        }

        CheckModel(request.ModelName, request.LayerCount);
        if (request.BlockCount < 1 || request.FirstBlock < 0 || (long)request.FirstBlock + request.BlockCount > request.LayerCount)
        {
            throw Invalid($"Blocks [{request.FirstBlock}, {(long)request.FirstBlock + request.BlockCount}) are not a non-empty range inside the model's [0, {request.LayerCount}).");
        }

        if (request.Role is not (ServerRole.Both or ServerRole.Prefill or ServerRole.Decode))
        {
            throw Invalid($"role {request.Role} is not one of BOTH, PREFILL, DECODE.");
        }

        if (request.FreeKvBytes < 0 || !InRange(request.DecodeSecondsPerBlock) || !InRange(request.EmulatedRttSeconds) || !InRange(request.PrefillSecondsPerBlockPerToken))
        {
            throw Invalid($"free_kv_bytes {request.FreeKvBytes} and decode_seconds_per_block {request.DecodeSecondsPerBlock} must be >= 0, and decode_seconds_per_block, emulated_rtt_seconds and prefill_seconds_per_block_per_token finite, 0 to 3600.");
        }

        if (request.KvCapacityBytes < 0 || request.KvCapacityBytes > MaxKvCapacityBytes || (request.KvCapacityBytes > 0 && request.FreeKvBytes > request.KvCapacityBytes))
        {
            throw Invalid($"kv_capacity_bytes {request.KvCapacityBytes} must be 0 (unknown) or at least free_kv_bytes {request.FreeKvBytes}, and at most {MaxKvCapacityBytes}.");
        }

        var renewed = _registry.Live().Any(s => string.Equals(s.ServerId, request.ServerId, StringComparison.Ordinal));
        var owned = await _registry.RegisterOwnedAsync(new RegisteredServer(request.ServerId, url, request.ModelName, request.LayerCount, new BlockRange(request.FirstBlock, request.BlockCount),
            request.Role, request.FreeKvBytes, 0, request.DecodeSecondsPerBlock, 0)
            {
                EmulatedRttSeconds = request.EmulatedRttSeconds,
                PrefillSecondsPerBlockPerToken = request.PrefillSecondsPerBlockPerToken,
                KvCapacityBytes = request.KvCapacityBytes,
            }, request.ServerSecret, context.CancellationToken).ConfigureAwait(false)
            ?? throw new RpcException(new Status(StatusCode.AlreadyExists,
                $"Server id '{Shorten(request.ServerId)}' is registered and live, and this registration does not carry its server secret; pick another --server-id, or wait {_options.HeartbeatTimeout.TotalSeconds:0.###} s for the old entry to expire."));
        _metrics.Registered(renewed);
        var end = request.FirstBlock + request.BlockCount;
        if (renewed)
        {
            CoordinatorHost.Log.Renewed(_logger, request.ServerId, request.Url, request.FirstBlock, end, request.ModelName);
        }
        else
        {
            CoordinatorHost.Log.Joined(_logger, request.ServerId, request.Url, request.FirstBlock, end, request.ModelName, request.Role.ToString());
        }

        var reply = new RegisterReply { HeartbeatIntervalMs = (int)_options.HeartbeatInterval.TotalMilliseconds, ServerSecret = owned.Secret };
        reply.MemberHosts.Add(MemberHosts());
        return reply;
    }

    public override async Task<HeartbeatReply> Heartbeat(HeartbeatRequest request, ServerCallContext context)
    {
        CheckToken(request.JoinToken);
        CheckId(request.ServerId);
        if (request.Sessions < 0 || request.FreeKvBytes < 0)
        {
            throw Invalid($"sessions {request.Sessions} and free_kv_bytes {request.FreeKvBytes} must be >= 0.");
        }

        Uri? url = null;
        if (request.Url.Length > 0 && (request.Url.Length > MaxUrlLength || !Uri.TryCreate(request.Url, UriKind.Absolute, out url)))
        {
            throw Invalid($"url '{Shorten(request.Url)}' is not an absolute URL.");
        }

        return await _registry.HeartbeatOwnedAsync(request.ServerId, request.ServerSecret, url, request.Sessions, request.FreeKvBytes, context.CancellationToken).ConfigureAwait(false) switch
        {
            HeartbeatOutcome.Refreshed => await RefreshedAsync(request, context.CancellationToken).ConfigureAwait(false),
            HeartbeatOutcome.UrlChanged => new HeartbeatReply { Known = false, Detail = $"The entry of '{Shorten(request.ServerId)}' points at another URL; register again." },
            HeartbeatOutcome.NotOwner => throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"The server secret given for '{Shorten(request.ServerId)}' is missing or wrong; only the server that registered the entry may heartbeat it.")),
            _ => new HeartbeatReply { Known = false, Detail = $"'{Shorten(request.ServerId)}' is not registered (expired or never seen); register again." },
        };
    }

    // A live server's heartbeat: the hosts it may pull KV caches from and, for an --auto server, whether it should move.
    private async Task<HeartbeatReply> RefreshedAsync(HeartbeatRequest request, CancellationToken cancellationToken)
    {
        var reply = new HeartbeatReply { Known = true };
        reply.MemberHosts.Add(MemberHosts());
        var self = request.Movable ? _registry.Live().FirstOrDefault(s => string.Equals(s.ServerId, request.ServerId, StringComparison.Ordinal)) : null;
        if (self is null)
        {
            return reply;
        }

        var servers = OfModel(self.ModelName, self.LayerCount);
        if (PlacementAdvisor.Rebalance(servers, self.ServerId, self.LayerCount, _options.DefaultDecodeSecondsPerBlock) is null)
        {
            return reply;
        }

        // The registry decides the window again (a shared one holds it for the mover against concurrent placements).
        var move = await _registry.PlaceAsync(self.ModelName, self.LayerCount, self.Blocks.Count, self.ServerId, _options.DefaultDecodeSecondsPerBlock, cancellationToken)
            .ConfigureAwait(false);
        if (move == self.Blocks)
        {
            return reply;
        }

        var uncovered = PlacementAdvisor.Uncovered(servers.Select(s => s.Blocks), BlockRange.All(self.LayerCount));
        CoordinatorHost.Log.Moved(_logger, self.ServerId, self.Blocks.First, self.Blocks.End, move.First, move.End, self.ModelName,
            uncovered.Count == 0 ? "every block covered; raises the weakest" : "uncovered: " + PlacementAdvisor.DescribeBlocks(uncovered));
        reply.MoveFirstBlock = move.First;
        reply.MoveBlockCount = move.Count;
        return reply;
    }

    // The IP literals of the live servers' URLs: peers a block server may pull KV caches from.
    private string[] MemberHosts() =>
        [.. _registry.Live().Select(s => s.Url.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 ? s.Url.IdnHost : null).OfType<string>().Distinct(StringComparer.Ordinal)];

    public override async Task<DeregisterReply> Deregister(DeregisterRequest request, ServerCallContext context)
    {
        CheckToken(request.JoinToken);
        CheckId(request.ServerId);
        var removed = await _registry.RemoveOwnedAsync(request.ServerId, request.ServerSecret, context.CancellationToken).ConfigureAwait(false);
        if (removed == true)
        {
            _metrics.Deregistered();
            CoordinatorHost.Log.Deregistered(_logger, request.ServerId);
        }

        return removed switch
        {
            true => new DeregisterReply { Existed = true },
            null => new DeregisterReply { Existed = false },
            false => throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"The server secret given for '{Shorten(request.ServerId)}' is missing or wrong; only the server that registered the entry may deregister it.")),
        };
    }

    public override Task<ListServersReply> ListServers(ListServersRequest request, ServerCallContext context)
    {
        var reply = new ListServersReply();
        reply.Servers.Add(_registry.Live().Select(s => s.ToEntry()));
        reply.Quarantined.Add(_registry.Quarantined().Select(q => new QuarantinedServer { ServerId = q.ServerId, Url = q.Url.ToString(), Reason = q.Reason, Reports = q.Reporters.Count }));
        return Task.FromResult(reply);
    }

    public override async Task<ReportServerReply> ReportServer(ReportServerRequest request, ServerCallContext context)
    {
        CheckId(request.ServerId);
        if (request.Reason.Length > 1024)
        {
            throw Invalid("reason must be at most 1024 characters.");
        }

        var reporter = ReporterHost(context.Peer);
        var (record, newly) = await _registry.ReportAsync(request.ServerId, reporter,
            $"blocks [{request.FirstBlock}, {(long)request.FirstBlock + request.BlockCount}): {request.Reason}", context.CancellationToken).ConfigureAwait(false);
        if (newly && record is not null)
        {
            _metrics.Quarantined();
            CoordinatorHost.Log.Quarantined(_logger, record.ServerId, record.Url, record.Reporters.Count, record.Reason);
        }

        return new ReportServerReply { Quarantined = record is not null };
    }

    // "ipv4:127.0.0.1:5000" -> "127.0.0.1": a client counts once per host, however many connections it opens.
    private static string ReporterHost(string peer)
    {
        var text = peer ?? string.Empty;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var address = colon >= 0 ? text[(colon + 1)..] : text;
        var port = address.LastIndexOf(':');
        return port > 0 ? address[..port] : address;
    }

    public override async Task<PlaceReply> Place(PlaceRequest request, ServerCallContext context)
    {
        CheckModel(request.ModelName, request.LayerCount);
        if (request.MaxBlocks < 1)
        {
            throw Invalid($"max_blocks is {request.MaxBlocks}; a server must be able to hold at least one block.");
        }

        if (request.ServerId.Length > MaxIdLength)
        {
            throw Invalid($"server_id must be at most {MaxIdLength} characters.");
        }

        var blocks = await _registry.PlaceAsync(request.ModelName, request.LayerCount, request.MaxBlocks,
            request.ServerId.Length > 0 ? request.ServerId : null, _options.DefaultDecodeSecondsPerBlock, context.CancellationToken).ConfigureAwait(false);
        _metrics.Placed();
        CoordinatorHost.Log.Placed(_logger, request.ServerId.Length > 0 ? request.ServerId : "(an unnamed server)", blocks.First, blocks.End, request.ModelName, request.MaxBlocks);
        return new PlaceReply { FirstBlock = blocks.First, BlockCount = blocks.Count };
    }

    public override Task<RouteReply> Route(RouteRequest request, ServerCallContext context)
    {
        var (live, ofModel, servers) = Snapshot(request);
        var route = LiveRouting.Route(servers, live, request.Routing, _options.Routing);
        _metrics.Routed(route is not null);
        if (route is null)
        {
            throw NoRoute(request, live, ofModel);
        }

        CoordinatorHost.Log.Routed(_logger, live.Blocks.First, live.Blocks.End, request.ModelName, route.Hops.Count, route.SecondsPerToken, route.Policy);
        AddPending(route, live.Phase != ServerPhase.Decode ? live.PromptTokens : 0, live.Phase != ServerPhase.Prefill ? DecodeTokens(live) : 0);
        return Task.FromResult(Reply(route, ofModel));
    }

    /// <summary>
    /// A phase-split session's plan: <see cref="LivePhasePlanner"/> routes both pools and lets the planner's
    /// <see cref="Strata.Planning.Pools.SplitwiseScheduler"/> (the simulator's) decide between them; the request's role is ignored.
    /// </summary>
    public override Task<PhasePlanReply> PlanPhases(RouteRequest request, ServerCallContext context)
    {
        var (live, ofModel, servers) = Snapshot(request);
        var plan = LivePhasePlanner.Plan(servers, live, request.Routing, _options.Routing, _options.PhaseScheduler);
        _metrics.Routed(plan is not null);
        if (plan is null)
        {
            throw NoRoute(request, live with { Phase = ServerPhase.Both }, ofModel); // neither pool: name the gap over every server
        }

        _metrics.PhasePlanned(plan.Decision);
        CoordinatorHost.Log.PhasePlanned(_logger, live.Blocks.First, live.Blocks.End, request.ModelName, plan.Decision, plan.Prefill.Hops.Count, plan.Decode.Hops.Count, plan.Prefill.Policy);
        if (plan.Transfers)
        {
            AddPending(plan.Prefill, live.PromptTokens, 0);
            AddPending(plan.Decode, 0, DecodeTokens(live));
        }
        else
        {
            AddPending(plan.Prefill, live.PromptTokens, DecodeTokens(live));
        }

        return Task.FromResult(new PhasePlanReply
        {
            Prefill = Reply(plan.Prefill, ofModel),
            Decode = Reply(plan.Decode, ofModel),
            Decision = PhaseDecisions.ToWire(plan.Decision),
        });
    }

    // Checks a route request and takes one snapshot of the registry (a shared registry may change between two reads):
    // the planner's request, the model's entries, and those entries as live servers with the client's round trips and
    // every open session charged the output this one expects.
    private (LiveRouteRequest Live, IReadOnlyList<RegisteredServer> OfModel, LiveServer[] Servers) Snapshot(RouteRequest request)
    {
        CheckModel(request.ModelName, request.LayerCount);
        var end = request.EndBlock == 0 ? request.LayerCount : request.EndBlock;
        if (request.FirstBlock < 0 || end <= request.FirstBlock || end > request.LayerCount)
        {
            throw Invalid($"Blocks [{request.FirstBlock}, {end}) are not a non-empty range inside the model's [0, {request.LayerCount}).");
        }

        var blocks = BlockRange.FromBounds(request.FirstBlock, end);

        if (request.ExcludedServerIds.Count > 10_000 || request.KvBytesPerBlock < 0)
        {
            throw Invalid("excluded_server_ids holds at most 10,000 ids and kv_bytes_per_block must be >= 0.");
        }

        if (request.PromptTokens < 0 || request.OutputTokens < 0 || request.RttSeconds.Count > 10_000
            || request.RttSeconds.Any(r => r.Key.Length > MaxIdLength || !double.IsFinite(r.Value) || r.Value < 0 || r.Value > 3600))
        {
            throw Invalid("prompt_tokens and output_tokens must be >= 0 and rtt_seconds holds at most 10,000 ids with finite round trips of 0 to 3600 s.");
        }

        if (request.Routing.Length > 0 && !RoutingPolicies.Names.Contains(request.Routing, StringComparer.Ordinal))
        {
            throw Invalid($"routing '{Shorten(request.Routing)}' is not one of {string.Join(", ", RoutingPolicies.Names)}.");
        }

        var excluded = request.ExcludedServerIds.ToHashSet(StringComparer.Ordinal);
        var live = new LiveRouteRequest(blocks, RegisteredServer.PhaseOf(request.Role), request.KvBytesPerBlock,
            Math.Max(1, request.PromptTokens), Math.Max(1, request.OutputTokens)) { Excluded = excluded };
        var ofModel = OfModel(request.ModelName, request.LayerCount);
        var servers = ofModel
            .Select(s => s.ToLive(request.RttSeconds.TryGetValue(s.ServerId, out var rtt) ? rtt : null, DecodeTokens(live)))
            .ToArray();
        return (live, ofModel, servers);
    }

    // Output tokens a session decodes after its first (which its prefill produces), as the simulator counts them.
    private static long DecodeTokens(LiveRouteRequest request) => request.OutputTokens - 1L;

    // The session reserves cache on every hop and adds its tokens to their queues until their next heartbeats.
    private void AddPending(LiveRoute route, long promptTokens, long decodeTokens)
    {
        foreach (var hop in route.Hops)
        {
            _registry.AddPending(hop.Server.Id, promptTokens, decodeTokens);
        }
    }

    private static RouteReply Reply(LiveRoute route, IReadOnlyList<RegisteredServer> ofModel)
    {
        var urls = ofModel.ToDictionary(s => s.ServerId, s => s.Url, StringComparer.Ordinal);
        var reply = new RouteReply { EstimatedSecondsPerToken = route.SecondsPerToken, Routing = route.Policy, PolicyCostSeconds = route.CostSeconds };
        reply.Hops.Add(route.Hops.Select(h => new RouteHopInfo { ServerId = h.Server.Id, Url = urls[h.Server.Id].ToString(), FirstBlock = h.Blocks.First, BlockCount = h.Blocks.Count }));
        return reply;
    }

    private RpcException NoRoute(RouteRequest request, LiveRouteRequest live, IReadOnlyList<RegisteredServer> ofModel)
    {
        var detail = NoChain(request, live.Phase, live.Blocks, ofModel, live.Excluded);
        CoordinatorHost.Log.NoRoute(_logger, live.Blocks.First, live.Blocks.End, request.ModelName, detail);
        return new RpcException(new Status(StatusCode.Unavailable, detail));
    }

    // Names the gap: the blocks no eligible server hosts, or, when every block has one, that none of them can take the session.
    private static string NoChain(RouteRequest request, ServerPhase phase, BlockRange blocks, IReadOnlyList<RegisteredServer> ofModel, IReadOnlySet<string> excluded)
    {
        // As LiveRouting does: a request for both phases may use any server when no chain of both-role servers exists.
        var eligible = ofModel.Where(s => !excluded.Contains(s.ServerId) && (phase == ServerPhase.Both || s.ToLive(null).Serves(phase))).ToList();
        var uncovered = PlacementAdvisor.Uncovered(eligible.Select(s => s.Blocks), blocks);
        var gap = uncovered.Count > 0
            ? $"no live {RoleName(phase)}server hosts block{(uncovered.Count > 1 ? "s" : string.Empty)} {PlacementAdvisor.DescribeBlocks(uncovered)}"
            : $"every block has a live {RoleName(phase)}server, yet the routing policy found no chain";
        return $"No chain of live {RoleName(phase)}servers covers blocks [{blocks.First}, {blocks.End}) of '{request.ModelName}' (excluding {excluded.Count} server(s)): {gap}; start block servers for the missing blocks or wait for them to register.";
    }

    private static string RoleName(ServerPhase phase) => phase switch
    {
        ServerPhase.Prefill => "prefill-capable ",
        ServerPhase.Decode => "decode-capable ",
        _ => string.Empty,
    };

    private IReadOnlyList<RegisteredServer> OfModel(string modelName, int layerCount) =>
        [.. _registry.Live().Where(s => s.LayerCount == layerCount && string.Equals(s.ModelName, modelName, StringComparison.Ordinal))];

    private void CheckToken(string presented)
    {
        if (_joinToken is null)
        {
            return;
        }

        if (!CryptographicOperations.FixedTimeEquals(_joinToken, Encoding.UTF8.GetBytes(presented ?? string.Empty)))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "This coordinator requires a join token and the one given is missing or wrong; pass the coordinator's --join-token."));
        }
    }

    private static void CheckId(string serverId)
    {
        if (string.IsNullOrEmpty(serverId) || serverId.Length > MaxIdLength)
        {
            throw Invalid($"server_id must be 1 to {MaxIdLength} characters.");
        }
    }

    private static void CheckModel(string modelName, int layerCount)
    {
        if (modelName.Length > MaxIdLength)
        {
            throw Invalid($"model_name must be at most {MaxIdLength} characters.");
        }

        if (layerCount < 1 || layerCount > MaxLayers)
        {
            throw Invalid($"layer_count is {layerCount}; expected 1 to {MaxLayers}.");
        }
    }

    private static bool InRange(double seconds) => double.IsFinite(seconds) && seconds >= 0 && seconds <= 3600;

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "...";

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}
