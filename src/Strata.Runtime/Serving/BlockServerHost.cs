using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Strata.Core.Placement;
using Strata.Runtime.Engine;
using Strata.Runtime.Observability;
using Strata.Runtime.Security;

namespace Strata.Runtime.Serving;

/// <summary>A running block server: Kestrel with HTTP/2 (cleartext, or TLS when given a certificate) on a loopback or given address, serving one model's block range over gRPC, with a TCP bulk KV path beside it (TLS too when gRPC has it), <c>/health</c> and <c>/metrics</c>.</summary>
public sealed partial class BlockServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly BlockServerService _service;
    private readonly BlockServerMetrics _metrics;
    private readonly ITimer _evictionTimer;
    private readonly KvBulkListener? _bulk;
    private readonly ILogger _logger;

    private BlockServerHost(
        WebApplication app, BlockServerService service, BlockServerMetrics metrics, ITimer evictionTimer, KvBulkListener? bulk, Uri address, BlockRange blocks, Uri? metricsAddress, ILogger logger)
    {
        _metrics = metrics;
        _app = app;
        _logger = logger;
        MetricsAddress = metricsAddress;
        _service = service;
        _evictionTimer = evictionTimer;
        _bulk = bulk;
        Address = address;
        Blocks = blocks;
    }

    /// <summary>Where clients reach the server, for example <c>http://127.0.0.1:50123</c> (<c>https</c> with TLS).</summary>
    public Uri Address { get; }

    /// <summary>
    /// Decode steps run so far and the sessions' tokens they carried (their ratio: the mean batch), as
    /// <c>strata_block_decode_batch_size</c> counts them. Exact once the steps are over, not mid-traffic.
    /// </summary>
    public (long Steps, long Rows) DecodeBatches => _metrics.DecodeBatches;

    /// <summary>The HTTP/1.1 endpoint serving <c>/health</c> and <c>/metrics</c> when one was asked for (<see cref="TelemetryOptions.MetricsPort"/>), else null.</summary>
    /// <remarks>Both routes are served on <see cref="Address"/> too, over prior-knowledge HTTP/2.</remarks>
    public Uri? MetricsAddress { get; }

    /// <summary>The blocks hosted.</summary>
    public BlockRange Blocks { get; }

    /// <summary>Starts serving the blocks <paramref name="model"/> holds on <paramref name="listenAddress"/>:<paramref name="port"/> (0 picks a free port).</summary>
    /// <param name="model">The model, holding the blocks to serve.</param>
    /// <param name="port">TCP port; 0 picks a free one.</param>
    /// <param name="listenAddress">Address to listen on (loopback by default).</param>
    /// <param name="limits">Message, token, session and idle limits.</param>
    /// <param name="timeProvider">Clock of the idle time-outs (the system clock by default).</param>
    /// <param name="telemetry">Loggers and the optional HTTP/1.1 metrics port (none by default).</param>
    /// <param name="tls">
    /// TLS of the gRPC port and the bulk KV path (served with its certificate, mutual with its client authorities), and the
    /// trust and client certificate the server pulls peers' KV caches with; null (the default): cleartext. The metrics port stays cleartext.
    /// </param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<BlockServerHost> StartAsync(
        LlamaModel model, int port = 0, IPAddress? listenAddress = null, BlockServerLimits? limits = null,
        TimeProvider? timeProvider = null, TelemetryOptions? telemetry = null, TlsOptions? tls = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        limits = (limits ?? new BlockServerLimits()).Validate();
        telemetry = (telemetry ?? new TelemetryOptions()).Validate();
        var time = timeProvider ?? TimeProvider.System;
        listenAddress ??= IPAddress.Loopback;
        tls?.Validate();

        // The bulk path sends the cache's memory as it is, little-endian fp32; a big-endian machine keeps to gRPC.
        var bulk = limits.BulkKvEnabled && BitConverter.IsLittleEndian ? KvBulkListener.Start(listenAddress, limits, time, tls) : null;
        try
        {
            return await StartAsync(model, port, listenAddress, limits, time, bulk, telemetry, tls, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            bulk?.Dispose();
            throw;
        }
    }

    private static async Task<BlockServerHost> StartAsync(
        LlamaModel model, int port, IPAddress listenAddress, BlockServerLimits limits, TimeProvider time, KvBulkListener? bulk, TelemetryOptions telemetry,
        TlsOptions? tls, CancellationToken cancellationToken)
    {
        var service = new BlockServerService(model, limits, time, bulk, tls);
        var logger = (telemetry.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<BlockServerHost>();
        var metrics = new BlockServerMetrics(service, model.Config.Architecture.Name, model.Weights.Blocks.First, model.Weights.Blocks.Count);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders(); // the host's own lines go through the loggers given; Kestrel's chatter stays out
        ListenOptions? metricsListen = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // A KV import is one request streaming many messages: bound it by the KV budget, not by one message.
            kestrel.Limits.MaxRequestBodySize = limits.MaxKvBytes + limits.MaxMessageBytes;
            // Large HTTP/2 windows and frames: KV caches are megabytes, and the defaults (768 KiB window,
            // 16 KiB frames) turn a loopback transfer into hundreds of flow-control round trips.
            kestrel.Limits.Http2.InitialConnectionWindowSize = 32 << 20;
            kestrel.Limits.Http2.InitialStreamWindowSize = 16 << 20;
            kestrel.Limits.Http2.MaxFrameSize = 1 << 20;
            kestrel.Listen(listenAddress, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                KestrelTls.Apply(listen, tls);
            });
            if (telemetry.MetricsPort is { } metricsPort)
            {
                kestrel.Listen(listenAddress, metricsPort, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    metricsListen = listen;
                });
            }
        });
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = limits.MaxMessageBytes;
            grpc.MaxSendMessageSize = limits.MaxMessageBytes;
            grpc.Interceptors.Add<BlockServerCallInterceptor>(metrics, logger, time);
            if (limits.EmulatedRtt > TimeSpan.Zero)
            {
                grpc.Interceptors.Add<EmulatedLinkInterceptor>(limits.EmulatedRtt, time);
            }
        });
        builder.Services.AddSingleton(service);
        // The block server's methods are bound with checked decoders (garbage is INVALID_ARGUMENT, not UNKNOWN).
        foreach (var binder in builder.Services.Where(d => d.ServiceType == typeof(Grpc.AspNetCore.Server.Model.IServiceMethodProvider<>)
            && d.ImplementationType?.Name.StartsWith("BinderServiceMethodProvider", StringComparison.Ordinal) == true).ToList())
        {
            builder.Services.Remove(binder);
        }

        builder.Services.AddSingleton<Grpc.AspNetCore.Server.Model.IServiceMethodProvider<BlockServerService>, DecodeCheckingMethodProvider>();
        var app = builder.Build();
        app.MapGrpcService<BlockServerService>();
        TelemetryEndpoints.Map(app, metrics.Registry, () => (true, new
        {
            Status = "ok",
            Model = model.Config.Architecture.Name,
            FirstBlock = model.Weights.Blocks.First,
            BlockCount = model.Weights.Blocks.Count,
            Sessions = service.SessionCount,
            service.KvBytes,
        }));
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel started without reporting its address.");
        var sweep = TimeSpan.FromTicks(Math.Clamp(limits.SessionIdleTimeout.Ticks / 4, TimeSpan.TicksPerSecond, 30 * TimeSpan.TicksPerSecond));
        var timer = time.CreateTimer(_ =>
        {
            if (service.EvictIdleSessions() is var evicted and > 0)
            {
                metrics.Evicted(evicted);
                Log.Evicted(logger, evicted, limits.SessionIdleTimeout.TotalSeconds);
            }
        }, null, sweep, sweep);
        var host = new BlockServerHost(app, service, metrics, timer, bulk, new Uri(bound.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)), model.Weights.Blocks,
            metricsListen is null ? null : TelemetryEndpoints.ToUri(metricsListen), logger);
        Log.Started(logger, host.Address, host.Blocks.First, host.Blocks.End, model.Config.Architecture.Name, limits.MaxSessions, limits.MaxKvBytes, bulk?.Port ?? 0);
        return host;
    }

    /// <summary>TCP port of the bulk KV path on the server's address (0 when it has none, see <see cref="BlockServerLimits.BulkKvEnabled"/>).</summary>
    public int BulkPort => _bulk?.Port ?? 0;

    /// <summary>Bulk KV offers this server sent in full to pullers since it started.</summary>
    internal int BulkKvSent => _bulk?.SentOffers ?? 0;

    /// <summary>Bulk KV tickets issued and not yet claimed or swept.</summary>
    internal int PendingKvOffers => _service.PendingKvOffers;

    /// <summary>Drops expired bulk KV tickets now (a timer also does it); returns how many.</summary>
    internal int SweepKvOffers() => _service.SweepKvOffers();

    /// <summary>
    /// Replaces the member hosts this server may pull KV caches from (<c>PullKv</c>) besides loopback and
    /// <see cref="BlockServerLimits.TrustedKvSources"/>: the coordinator's live servers, which <see cref="Coordination.BlockServerAgent"/> keeps here.
    /// </summary>
    public void TrustKvSources(IEnumerable<IPAddress> hosts)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        _service.MemberKvSources = hosts.ToHashSet();
    }

    /// <summary>Sessions held now.</summary>
    public int SessionCount => _service.SessionCount;

    /// <summary>KV-cache bytes held by every session now.</summary>
    public long KvBytes => _service.KvBytes;

    /// <summary>The pool of the server's KV arrays (its counters show how much memory sessions reuse).</summary>
    internal KvArrayPool KvPool => _service.KvPool;

    /// <summary>The limits the server enforces.</summary>
    public BlockServerLimits Limits => _service.Limits;

    /// <summary>Drops the sessions idle for longer than the limit now (a timer also does it every quarter of the limit); returns how many.</summary>
    public int EvictIdleSessions() => _service.EvictIdleSessions();

    /// <summary>Stops accepting calls and waits for those in flight; closes the bulk KV path.</summary>
    public async ValueTask DisposeAsync()
    {
        Log.Stopping(_logger, _service.SessionCount);
        await _evictionTimer.DisposeAsync().ConfigureAwait(false);
        _bulk?.Dispose();
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await _service.DisposeAsync().ConfigureAwait(false);
    }
}
