using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Strata.Runtime.Engine;

namespace Strata.Runtime.Serving;

/// <summary>A running block server: Kestrel with HTTP/2 (cleartext) on a loopback or given address, serving one model's block range over gRPC.</summary>
public sealed class BlockServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BlockServerHost(WebApplication app, Uri address, int firstBlock, int blockCount)
    {
        _app = app;
        Address = address;
        FirstBlock = firstBlock;
        BlockCount = blockCount;
    }

    /// <summary>Where clients reach the server, for example <c>http://127.0.0.1:50123</c>.</summary>
    public Uri Address { get; }

    /// <summary>First block hosted.</summary>
    public int FirstBlock { get; }

    /// <summary>Blocks hosted.</summary>
    public int BlockCount { get; }

    /// <summary>Starts serving the blocks <paramref name="model"/> holds on <paramref name="listenAddress"/>:<paramref name="port"/> (0 picks a free port).</summary>
    public static async Task<BlockServerHost> StartAsync(LlamaModel model, int port = 0, IPAddress? listenAddress = null, BlockServerLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        limits = (limits ?? new BlockServerLimits()).Validate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = limits.MaxMessageBytes;
            kestrel.Listen(listenAddress ?? IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = limits.MaxMessageBytes;
            grpc.MaxSendMessageSize = limits.MaxMessageBytes;
        });
        builder.Services.AddSingleton(new BlockServerService(model, limits));
        var app = builder.Build();
        app.MapGrpcService<BlockServerService>();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel started without reporting its address.");
        return new BlockServerHost(app, new Uri(bound.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)), model.Weights.FirstBlock, model.Weights.BlockCount);
    }

    /// <summary>Stops accepting calls and waits for those in flight.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
