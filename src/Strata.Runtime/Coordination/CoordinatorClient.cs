using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Strata.Runtime.Protocol;
using Strata.Runtime.Security;

namespace Strata.Runtime.Coordination;

/// <summary>
/// A client of the coordinators (servers register and heartbeat through it; generation clients ask it for routes), each
/// call under a deadline. Given several coordinators (sharing one registry), a call that cannot reach the current one
/// moves to the next, backing off after each full round, and logs the fail-over.
/// </summary>
public sealed partial class CoordinatorClient : IDisposable
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    private readonly GrpcChannel[] _channels;
    private readonly Coordinator.CoordinatorClient[] _clients;
    private readonly Uri[] _addresses;
    private readonly TimeSpan _deadline;
    private readonly TimeProvider _time;
    private int _current;

    /// <summary>Connects (lazily) to the coordinator at <paramref name="address"/>.</summary>
    /// <param name="address">The coordinator, for example <c>http://127.0.0.1:50100</c>.</param>
    /// <param name="deadline">Deadline of each call (default 10 s).</param>
    /// <param name="timeProvider">Clock the deadlines are set from (the system clock by default).</param>
    /// <param name="tls">Trust and client certificate for <c>https</c> coordinators (null: the system trust store, no client certificate).</param>
    public CoordinatorClient(Uri address, TimeSpan? deadline = null, TimeProvider? timeProvider = null, TlsOptions? tls = null)
        : this([address ?? throw new ArgumentNullException(nameof(address))], deadline, timeProvider, tls: tls)
    {
    }

    /// <summary>Connects (lazily) to the coordinators at <paramref name="addresses"/>, starting with the first.</summary>
    /// <param name="addresses">Coordinators sharing one registry; at least one.</param>
    /// <param name="deadline">Deadline of each call (default 10 s).</param>
    /// <param name="timeProvider">Clock the deadlines and back-offs are set from (the system clock by default).</param>
    /// <param name="logger">Where each fail-over is logged (a warning naming both coordinators); null logs nowhere.</param>
    /// <param name="tls">
    /// Trust and client certificate for <c>https</c> coordinators (null: the system trust store, no client certificate);
    /// <see cref="CoordinatedBlockChain"/> reaches block servers with the same settings.
    /// </param>
    public CoordinatorClient(IReadOnlyList<Uri> addresses, TimeSpan? deadline = null, TimeProvider? timeProvider = null, ILogger? logger = null, TlsOptions? tls = null)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        ArgumentOutOfRangeException.ThrowIfZero(addresses.Count);
        _addresses = [.. addresses];
        Tls = tls?.Validate();
        _channels = [.. _addresses.Select(a => GrpcChannel.ForAddress(a, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = 4 << 20,
            MaxSendMessageSize = 1 << 20,
            HttpHandler = TlsHttpHandler.Create(new SocketsHttpHandler { EnableMultipleHttp2Connections = true }, tls),
            DisposeHttpClient = true,
        }))];
        _clients = [.. _channels.Select(c => new Coordinator.CoordinatorClient(c))];
        _deadline = deadline ?? TimeSpan.FromSeconds(10);
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The TLS settings this client connects with (null: the system trust store, no client certificate).</summary>
    public TlsOptions? Tls { get; }

    /// <summary>The coordinator calls go to now.</summary>
    public Uri Address => _addresses[Volatile.Read(ref _current)];

    /// <summary>Every coordinator, in fail-over order.</summary>
    public IReadOnlyList<Uri> Addresses => _addresses;

    /// <summary>Times a call moved to another coordinator.</summary>
    public int Failovers => Volatile.Read(ref _failovers);

    private int _failovers;

    private readonly ILogger _logger;

    /// <summary>Registers (or re-registers) a server.</summary>
    public Task<RegisterReply> RegisterAsync(RegisterRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(c => c.RegisterAsync(request, deadline: Deadline(), cancellationToken: cancellationToken).ResponseAsync, cancellationToken);

    /// <summary>Reports a server's load; false when the coordinator no longer knows it (register again).</summary>
    public async Task<bool> HeartbeatAsync(HeartbeatRequest request, CancellationToken cancellationToken = default) =>
        (await CallAsync(c => c.HeartbeatAsync(request, deadline: Deadline(), cancellationToken: cancellationToken).ResponseAsync, cancellationToken).ConfigureAwait(false)).Known;

    /// <summary>Reports a server's load; the whole reply (known, the swarm's member hosts, a move for a movable server).</summary>
    public Task<HeartbeatReply> HeartbeatReplyAsync(HeartbeatRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(c => c.HeartbeatAsync(request, deadline: Deadline(), cancellationToken: cancellationToken).ResponseAsync, cancellationToken);

    /// <summary>Removes a server; true when it was registered.</summary>
    public Task<bool> DeregisterAsync(string serverId, string? joinToken, CancellationToken cancellationToken = default) =>
        DeregisterAsync(serverId, joinToken, null, cancellationToken);

    /// <summary>Removes a server, presenting the secret its registration was issued; true when it was registered.</summary>
    public async Task<bool> DeregisterAsync(string serverId, string? joinToken, string? serverSecret, CancellationToken cancellationToken = default) =>
        (await CallAsync(c => c.DeregisterAsync(new DeregisterRequest { ServerId = serverId, JoinToken = joinToken ?? string.Empty, ServerSecret = serverSecret ?? string.Empty },
            deadline: Deadline(), cancellationToken: cancellationToken).ResponseAsync, cancellationToken).ConfigureAwait(false)).Existed;

    /// <summary>Reports a server whose reply was rejected; true when the coordinator has quarantined it.</summary>
    public async Task<bool> ReportServerAsync(ReportServerRequest request, CancellationToken cancellationToken = default) =>
        (await CallAsync(c => c.ReportServerAsync(request, deadline: Deadline(), cancellationToken: cancellationToken).ResponseAsync, cancellationToken).ConfigureAwait(false)).Quarantined;

    /// <summary>Every live server and every quarantined one.</summary>
    public Task<ListServersReply> ListAllAsync(CancellationToken cancellationToken = default) =>
        CallAsync(c => c.ListServersAsync(new ListServersRequest(), deadline: Deadline(), cancellationToken: cancellationToken).ResponseAsync, cancellationToken);

    /// <summary>Every live server.</summary>
    public async Task<IReadOnlyList<ServerEntry>> ListServersAsync(CancellationToken cancellationToken = default) =>
        (await ListAllAsync(cancellationToken).ConfigureAwait(false)).Servers;

    /// <summary>The blocks a joining server able to hold <paramref name="maxBlocks"/> blocks should host.</summary>
    public Task<PlaceReply> PlaceAsync(string modelName, int layerCount, int maxBlocks, CancellationToken cancellationToken = default) =>
        PlaceAsync(modelName, layerCount, maxBlocks, null, cancellationToken);

    /// <summary>The blocks a joining server able to hold <paramref name="maxBlocks"/> blocks should host; a registry that records placements holds them for <paramref name="serverId"/> until it registers.</summary>
    public Task<PlaceReply> PlaceAsync(string modelName, int layerCount, int maxBlocks, string? serverId, CancellationToken cancellationToken = default) =>
        CallAsync(c => c.PlaceAsync(new PlaceRequest { ModelName = modelName, LayerCount = layerCount, MaxBlocks = maxBlocks, ServerId = serverId ?? string.Empty },
            deadline: Deadline(), cancellationToken: cancellationToken).ResponseAsync, cancellationToken);

    /// <summary>A chain of servers covering the request's blocks (UNAVAILABLE when none does).</summary>
    public Task<RouteReply> RouteAsync(RouteRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(c => c.RouteAsync(request, deadline: Deadline(), cancellationToken: cancellationToken).ResponseAsync, cancellationToken);

    /// <summary>A phase-split session's plan: the prefill route, the decode route and where the session runs, as the coordinator's Splitwise scheduler decides (UNAVAILABLE when neither pool covers the blocks).</summary>
    public Task<PhasePlanReply> PlanPhasesAsync(RouteRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(c => c.PlanPhasesAsync(request, deadline: Deadline(), cancellationToken: cancellationToken).ResponseAsync, cancellationToken);

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }

    // gRPC takes an absolute UTC deadline; it bounds a call and feeds no result.
    private DateTime Deadline() => _time.GetUtcNow().UtcDateTime + _deadline;
}
