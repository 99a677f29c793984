using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Strata.Runtime.Coordination;

/// <summary>A running coordinator: Kestrel with HTTP/2 (cleartext) serving the registry, placement and routing over gRPC.</summary>
public sealed class CoordinatorHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ITimer _sweepTimer;

    private CoordinatorHost(WebApplication app, ITimer sweepTimer, IServerRegistry registry, Uri address)
    {
        _app = app;
        _sweepTimer = sweepTimer;
        Registry = registry;
        Address = address;
    }

    /// <summary>Where servers and clients reach the coordinator, for example <c>http://127.0.0.1:50123</c>.</summary>
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
        if (string.IsNullOrEmpty(options.JoinToken))
        {
            options.Log?.Invoke(CoordinatorService.NoJoinTokenWarning);
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = 1 << 20;
            kestrel.Listen(listenAddress ?? IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = 1 << 20;
            grpc.MaxSendMessageSize = 4 << 20;
        });
        builder.Services.AddSingleton(new CoordinatorService(registry, options));
        var app = builder.Build();
        app.MapGrpcService<CoordinatorService>();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel started without reporting its address.");
        var timer = time.CreateTimer(_ => registry.DropExpired(), null, options.HeartbeatInterval, options.HeartbeatInterval);
        return new CoordinatorHost(app, timer, registry, new Uri(bound.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)));
    }

    /// <summary>Stops accepting calls and waits for those in flight.</summary>
    public async ValueTask DisposeAsync()
    {
        await _sweepTimer.DisposeAsync().ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await Registry.DisposeAsync().ConfigureAwait(false);
    }
}
