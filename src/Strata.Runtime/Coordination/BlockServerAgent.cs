using System.Net;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Strata.Core.Placement;
using Strata.Runtime.Protocol;
using Strata.Runtime.Serving;

namespace Strata.Runtime.Coordination;

/// <summary>Keeps a block server in the coordinator's registry: registers it, heartbeats its load, registers again when dropped, deregisters on disposal.</summary>
public sealed partial class BlockServerAgent : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly BlockServerHost _host;
    private readonly CoordinatorClient _coordinator;
    private readonly RegisterRequest _registration;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<BlockRange> _move = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly bool _movable;
    private readonly Task _loop;

    private BlockServerAgent(BlockServerHost host, CoordinatorClient coordinator, RegisterRequest registration, bool movable, TimeSpan interval, TimeProvider time, ILogger logger)
    {
        _logger = logger;
        _host = host;
        _coordinator = coordinator;
        _registration = registration;
        _movable = movable;
        _loop = HeartbeatLoopAsync(interval, time, _stop.Token);
    }

    /// <summary>The id the server registered under.</summary>
    public string ServerId => _registration.ServerId;

    /// <summary>The URL registered for clients and peers.</summary>
    public Uri Url => new(_registration.Url);

    /// <summary>
    /// Completes with the blocks the coordinator asked a movable server to host instead (never for
    /// one that is not <see cref="BlockServerAgentOptions.Movable"/>); the owner then restarts the server on them.
    /// </summary>
    public Task<BlockRange> MoveRequested => _move.Task;

    /// <summary>Registers <paramref name="host"/> with the coordinator and starts heartbeating.</summary>
    /// <exception cref="RpcException">The coordinator refused the registration (PERMISSION_DENIED for a wrong join token, INVALID_ARGUMENT for bad fields) or is unreachable.</exception>
    public static async Task<BlockServerAgent> StartAsync(
        BlockServerHost host, CoordinatorClient coordinator, string modelName, int layerCount, BlockServerAgentOptions? options = null,
        TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(coordinator);
        options ??= new BlockServerAgentOptions();
        var url = options.AdvertisedUrl ?? host.Address;
        var registration = new RegisterRequest
        {
            ServerId = options.ServerId ?? url.Authority,
            Url = url.ToString(),
            ModelName = modelName,
            LayerCount = layerCount,
            FirstBlock = host.Blocks.First,
            BlockCount = host.Blocks.Count,
            Role = options.Role,
            FreeKvBytes = Math.Max(0, host.Limits.MaxKvBytes - host.KvBytes),
            KvCapacityBytes = Math.Max(0, host.Limits.MaxKvBytes),
            JoinToken = options.JoinToken ?? string.Empty,
            DecodeSecondsPerBlock = options.DecodeSecondsPerBlock,
            PrefillSecondsPerBlockPerToken = options.PrefillSecondsPerBlockPerToken,
            EmulatedRttSeconds = host.Limits.EmulatedRtt.TotalSeconds,
        };
        var reply = await coordinator.RegisterAsync(registration, cancellationToken).ConfigureAwait(false);
        registration.ServerSecret = reply.ServerSecret; // presented by every later heartbeat, re-registration and deregistration
        Trust(host, reply.MemberHosts);
        var interval = TimeSpan.FromMilliseconds(Math.Max(10, reply.HeartbeatIntervalMs));
        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<BlockServerAgent>();
        Log.Registered(logger, registration.ServerId, coordinator.Address, registration.FirstBlock, registration.FirstBlock + registration.BlockCount, interval.TotalSeconds);
        return new BlockServerAgent(host, coordinator, registration, options.Movable, interval, timeProvider ?? TimeProvider.System, logger);
    }

    /// <summary>Stops heartbeating without deregistering, as a crash would (for fault tests): the entry stays until the registry drops it.</summary>
    internal Task AbandonAsync() => _stop.CancelAsync();

    /// <summary>Stops heartbeating and deregisters (best effort: a coordinator that is gone drops the server anyway).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var existed = await _coordinator.DeregisterAsync(ServerId, _registration.JoinToken, _registration.ServerSecret, timeout.Token).ConfigureAwait(false);
            Log.Deregistered(_logger, ServerId, _coordinator.Address, existed);
        }
        catch (RpcException exception)
        {
            Log.DeregistrationFailed(_logger, ServerId, exception.StatusCode, exception.Status.Detail);
        }
        catch (OperationCanceledException)
        {
            Log.DeregistrationFailed(_logger, ServerId, StatusCode.DeadlineExceeded, "no coordinator answered within 2 s");
        }

        _stop.Dispose();
    }

    private async Task HeartbeatLoopAsync(TimeSpan interval, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        var failures = 0;
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                var free = Math.Max(0, _host.Limits.MaxKvBytes - _host.KvBytes);
                var beat = await _coordinator.HeartbeatReplyAsync(new HeartbeatRequest
                {
                    ServerId = ServerId,
                    Sessions = _host.SessionCount,
                    FreeKvBytes = free,
                    JoinToken = _registration.JoinToken,
                    ServerSecret = _registration.ServerSecret,
                    Url = _registration.Url,
                    Movable = _movable,
                }, cancellationToken).ConfigureAwait(false);
                if (beat.Known)
                {
                    Trust(_host, beat.MemberHosts);
                    if (_movable && beat.MoveBlockCount > 0 && beat.MoveFirstBlock >= 0)
                    {
                        _move.TrySetResult(new BlockRange(beat.MoveFirstBlock, beat.MoveBlockCount));
                    }
                }
                else
                {
                    // Dropped (the coordinator restarted, or we were silent too long), or the entry points elsewhere:
                    // register again with our secret; a fresh entry issues a new one.
                    _registration.FreeKvBytes = free;
                    var reply = await _coordinator.RegisterAsync(_registration, cancellationToken).ConfigureAwait(false);
                    _registration.ServerSecret = reply.ServerSecret;
                    Log.RegisteredAgain(_logger, ServerId, _coordinator.Address);
                    Trust(_host, reply.MemberHosts);
                }

                failures = 0;
            }
            catch (RpcException exception)
            {
                // The coordinator is down or restarting: keep trying; it drops us if we stay silent.
                if (failures++ == 0)
                {
                    Log.HeartbeatFailed(_logger, ServerId, _coordinator.Address, exception.StatusCode, exception.Status.Detail);
                }
            }
        }
    }

    // The swarm's members are the peers this server may pull KV caches from; a host that is not an IP literal is skipped.
    private static void Trust(BlockServerHost host, IEnumerable<string> memberHosts) =>
        host.TrustKvSources(memberHosts.Select(h => IPAddress.TryParse(h.Trim('[', ']'), out var address) ? address : null).OfType<IPAddress>());
}
