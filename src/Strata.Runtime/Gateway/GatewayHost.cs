using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Strata.Runtime.Gateway;

/// <summary>A running OpenAI-compatible gateway: Kestrel (HTTP/1.1 and HTTP/2 cleartext) serving <c>/v1/models</c>, <c>/v1/completions</c> and <c>/v1/chat/completions</c>.</summary>
/// <remarks>See the Gateway section of <c>docs/runtime.md</c> for the fields, limits and error codes.</remarks>
public sealed class GatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CompletionEndpoint _endpoint;

    private GatewayHost(WebApplication app, CompletionEndpoint endpoint, Uri address, GatewayOptions options)
    {
        _app = app;
        _endpoint = endpoint;
        Address = address;
        Options = options;
    }

    /// <summary>Where clients reach the gateway, for example <c>http://127.0.0.1:50123</c> (append <c>/v1</c> for OpenAI clients' base URL).</summary>
    public Uri Address { get; }

    /// <summary>The limits in force.</summary>
    public GatewayOptions Options { get; }

    /// <summary>Generations running now (at most <see cref="GatewayOptions.MaxConcurrentRequests"/>).</summary>
    public int ActiveRequests => _endpoint.ActiveRequests;

    /// <summary>Starts the gateway on <paramref name="listenAddress"/>:<paramref name="port"/> (0 picks a free port) serving <paramref name="backends"/>.</summary>
    /// <param name="backends">One backend per model; the first is used when a request names no model.</param>
    /// <param name="port">TCP port; 0 picks a free one.</param>
    /// <param name="listenAddress">Address to listen on (loopback by default).</param>
    /// <param name="options">Limits and defaults (see <see cref="GatewayOptions"/>).</param>
    /// <param name="timeProvider">Clock of <c>created</c> fields and request deadlines (the system clock by default).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="ArgumentException">No backend, or two with the same model id.</exception>
    public static async Task<GatewayHost> StartAsync(
        IReadOnlyList<ICompletionBackend> backends, int port = 0, IPAddress? listenAddress = null, GatewayOptions? options = null,
        TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backends);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        if (backends.Count == 0)
        {
            throw new ArgumentException("A gateway needs at least one backend.", nameof(backends));
        }

        if (backends.Select(b => b.ModelId).Distinct(StringComparer.Ordinal).Count() != backends.Count)
        {
            throw new ArgumentException("Two backends share a model id; give each model its own id.", nameof(backends));
        }

        options = (options ?? new GatewayOptions()).Validate();
        var time = timeProvider ?? TimeProvider.System;
        var startedUnixSeconds = time.GetUtcNow().ToUnixTimeSeconds();
        var endpoint = new CompletionEndpoint([.. backends], options, time);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Listen(listenAddress ?? IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http1AndHttp2);
        });
        var app = builder.Build();
        var modelIds = backends.Select(b => b.ModelId).ToArray();
        app.MapGet("/v1/models", context =>
        {
            context.Response.ContentType = "application/json";
            return JsonSerializer.SerializeAsync(context.Response.Body, OpenAiPayloads.ModelList(modelIds, startedUnixSeconds), CompletionEndpoint.JsonOptions, context.RequestAborted);
        });
        app.MapPost("/v1/completions", context => endpoint.HandleAsync(context, isChat: false));
        app.MapPost("/v1/chat/completions", context => endpoint.HandleAsync(context, isChat: true));
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            endpoint.Dispose();
            throw;
        }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel started without reporting its address.");
        return new GatewayHost(app, endpoint, new Uri(bound.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)), options);
    }

    /// <summary>Stops accepting requests and waits for those in flight (cancelled when the host's shutdown time-out passes).</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _endpoint.Dispose();
    }
}
