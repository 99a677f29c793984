using Grpc.Net.Client;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Coordination;

/// <summary>A client of the coordinator (servers register and heartbeat through it; generation clients ask it for routes), each call under a deadline.</summary>
public sealed class CoordinatorClient : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly Coordinator.CoordinatorClient _client;
    private readonly TimeSpan _deadline;
    private readonly TimeProvider _time;

    /// <summary>Connects (lazily) to the coordinator at <paramref name="address"/>.</summary>
    /// <param name="address">The coordinator, for example <c>http://127.0.0.1:50100</c>.</param>
    /// <param name="deadline">Deadline of each call (default 10 s).</param>
    /// <param name="timeProvider">Clock the deadlines are set from (the system clock by default).</param>
    public CoordinatorClient(Uri address, TimeSpan? deadline = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        Address = address;
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxReceiveMessageSize = 4 << 20, MaxSendMessageSize = 1 << 20 });
        _client = new Coordinator.CoordinatorClient(_channel);
        _deadline = deadline ?? TimeSpan.FromSeconds(10);
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The coordinator's address.</summary>
    public Uri Address { get; }

    /// <summary>Registers (or re-registers) a server.</summary>
    public async Task<RegisterReply> RegisterAsync(RegisterRequest request, CancellationToken cancellationToken = default) =>
        await _client.RegisterAsync(request, deadline: Deadline(), cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>Reports a server's load; false when the coordinator no longer knows it (register again).</summary>
    public async Task<bool> HeartbeatAsync(HeartbeatRequest request, CancellationToken cancellationToken = default) =>
        (await _client.HeartbeatAsync(request, deadline: Deadline(), cancellationToken: cancellationToken).ConfigureAwait(false)).Known;

    /// <summary>Removes a server; true when it was registered.</summary>
    public Task<bool> DeregisterAsync(string serverId, string? joinToken, CancellationToken cancellationToken = default) =>
        DeregisterAsync(serverId, joinToken, null, cancellationToken);

    /// <summary>Removes a server, presenting the secret its registration was issued; true when it was registered.</summary>
    public async Task<bool> DeregisterAsync(string serverId, string? joinToken, string? serverSecret, CancellationToken cancellationToken = default) =>
        (await _client.DeregisterAsync(new DeregisterRequest { ServerId = serverId, JoinToken = joinToken ?? string.Empty, ServerSecret = serverSecret ?? string.Empty },
            deadline: Deadline(), cancellationToken: cancellationToken).ConfigureAwait(false)).Existed;

    /// <summary>Reports a server whose reply was rejected; true when the coordinator has quarantined it.</summary>
    public async Task<bool> ReportServerAsync(ReportServerRequest request, CancellationToken cancellationToken = default) =>
        (await _client.ReportServerAsync(request, deadline: Deadline(), cancellationToken: cancellationToken).ConfigureAwait(false)).Quarantined;

    /// <summary>Every live server and every quarantined one.</summary>
    public async Task<ListServersReply> ListAllAsync(CancellationToken cancellationToken = default) =>
        await _client.ListServersAsync(new ListServersRequest(), deadline: Deadline(), cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>Every live server.</summary>
    public async Task<IReadOnlyList<ServerEntry>> ListServersAsync(CancellationToken cancellationToken = default) =>
        (await _client.ListServersAsync(new ListServersRequest(), deadline: Deadline(), cancellationToken: cancellationToken).ConfigureAwait(false)).Servers;

    /// <summary>The blocks a joining server able to hold <paramref name="maxBlocks"/> blocks should host.</summary>
    public async Task<PlaceReply> PlaceAsync(string modelName, int layerCount, int maxBlocks, CancellationToken cancellationToken = default) =>
        await _client.PlaceAsync(new PlaceRequest { ModelName = modelName, LayerCount = layerCount, MaxBlocks = maxBlocks }, deadline: Deadline(), cancellationToken: cancellationToken)
            .ConfigureAwait(false);

    /// <summary>A chain of servers covering the request's blocks (UNAVAILABLE when none does).</summary>
    public async Task<RouteReply> RouteAsync(RouteRequest request, CancellationToken cancellationToken = default) =>
        await _client.RouteAsync(request, deadline: Deadline(), cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public void Dispose() => _channel.Dispose();

    // gRPC takes an absolute UTC deadline; it bounds a call and feeds no result.
    private DateTime Deadline() => _time.GetUtcNow().UtcDateTime + _deadline;
}
