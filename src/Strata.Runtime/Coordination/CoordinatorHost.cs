using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Strata.Runtime.Observability;
using Strata.Runtime.Security;

namespace Strata.Runtime.Coordination;

/// <summary>A running coordinator: Kestrel with HTTP/2 (cleartext, or TLS with <see cref="CoordinatorOptions.Tls"/>) serving the registry, placement and routing over gRPC, with <c>/health</c> and <c>/metrics</c>.</summary>
public sealed partial class CoordinatorHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ITimer _sweepTimer;
    private readonly ILogger _logger;
    private readonly Action<string> _onExpired;

    private CoordinatorHost(WebApplication app, ITimer sweepTimer, IServerRegistry registry, Uri address, Uri? metricsAddress, ILogger logger, Action<string> onExpired)
    {
        _app = app;
        _sweepTimer = sweepTimer;
        _logger = logger;
        _onExpired = onExpired;
        Registry = registry;
        Address = address;
        MetricsAddress = metricsAddress;
    }

    /// <summary>The HTTP/1.1 endpoint serving <c>/health</c> and <c>/metrics</c> when one was asked for (<see cref="TelemetryOptions.MetricsPort"/>), else null.</summary>
    /// <remarks>Both routes are served on <see cref="Address"/> too, over prior-knowledge HTTP/2.</remarks>
    public Uri? MetricsAddress { get; }

    /// <summary>Where servers and clients reach the coordinator, for example <c>http://127.0.0.1:50123</c> (<c>https</c> with TLS).</summary>
    public Uri Address { get; }

    /// <summary>The registry it serves (in memory unless one was given).</summary>
    public IServerRegistry Registry { get; }

    /// <summary>Starts a coordinator on <paramref name="listenAddress"/>:<paramref name="port"/> (0 picks a free port; loopback by default) with an in-memory registry.</summary>
    public static Task<CoordinatorHost> StartAsync(
        int port = 0, CoordinatorOptions? options = null, IPAddress? listenAddress = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default) =>
        StartAsync(null, port, options, listenAddress, timeProvider, cancellationToken);

    /// <summary>
    /// Starts a coordinator serving <paramref name="registry"/> (null: a fresh in-memory one), which the host then owns and disposes.
    /// </summary>
    public static async Task<CoordinatorHost> StartAsync(
        IServerRegistry? registry, int port = 0, CoordinatorOptions? options = null, IPAddress? listenAddress = null, TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        options = (options ?? new CoordinatorOptions()).Validate();
        var time = timeProvider ?? TimeProvider.System;
        registry ??= new ServerRegistry(options.HeartbeatTimeout, time) { QuarantineReportThreshold = options.QuarantineReportThreshold };
        var loggers = options.Telemetry.LoggerFactory ?? NullLoggerFactory.Instance;
        var logger = loggers.CreateLogger<CoordinatorHost>();
        if (string.IsNullOrEmpty(options.JoinToken))
        {
            Log.NoJoinToken(logger);
        }

        var metrics = new CoordinatorMetrics(registry);
        void OnExpired(string serverId)
        {
            metrics.Expired();
            Log.Expired(logger, serverId, options.HeartbeatTimeout.TotalSeconds);
        }

        registry.EntryExpired += OnExpired;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders(); // the host's own lines go through the loggers given; Kestrel's chatter stays out
        ListenOptions? metricsListen = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = 1 << 20;
            kestrel.Listen(listenAddress ?? IPAddress.Loopback, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                KestrelTls.Apply(listen, options.Tls);
            });
            if (options.Telemetry.MetricsPort is { } metricsPort)
            {
                kestrel.Listen(listenAddress ?? IPAddress.Loopback, metricsPort, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1;
                    metricsListen = listen;
                });
            }
        });
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = 1 << 20;
            grpc.MaxSendMessageSize = 4 << 20;
            grpc.Interceptors.Add<CoordinatorCallInterceptor>(registry, metrics, logger);
        });
        builder.Services.AddSingleton(new CoordinatorService(registry, options, metrics, logger));
        var app = builder.Build();
        app.MapGrpcService<CoordinatorService>();
        TelemetryEndpoints.Map(app, metrics.Registry, () => Health(registry));
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            registry.EntryExpired -= OnExpired;
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel started without reporting its address.");
        var timer = time.CreateTimer(_ => registry.DropExpired(), null, options.HeartbeatInterval, options.HeartbeatInterval);
        var host = new CoordinatorHost(app, timer, registry, new Uri(bound.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)),
            metricsListen is null ? null : TelemetryEndpoints.ToUri(metricsListen), logger, OnExpired);
        Log.Started(logger, host.Address, registry.Description, options.HeartbeatInterval.TotalSeconds, options.HeartbeatTimeout.TotalSeconds);
        return host;
    }

    // 503 while the registry copy may be stale: a load balancer takes this coordinator out, as its clients do.
    private static (bool Healthy, object Body) Health(IServerRegistry registry)
    {
        var stale = registry.IsStale;
        return (!stale, new { Status = stale ? "stale" : "ok", Registry = registry.Description, Servers = registry.Live().Count, Quarantined = registry.Quarantined().Count });
    }

    /// <summary>Stops accepting calls and waits for those in flight.</summary>
    public async ValueTask DisposeAsync()
    {
        Log.Stopping(_logger);
        Registry.EntryExpired -= _onExpired;
        await _sweepTimer.DisposeAsync().ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await Registry.DisposeAsync().ConfigureAwait(false);
    }
}
