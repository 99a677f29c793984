using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Strata.Runtime.Gateway;

/// <summary>A running OpenAI-compatible gateway: Kestrel (HTTP/1.1 and HTTP/2 cleartext) serving <c>/v1/models</c>, <c>/v1/completions</c> and <c>/v1/chat/completions</c>.</summary>
/// <remarks>See the Gateway section of <c>docs/runtime.md</c> for the fields, limits and error codes.</remarks>
public sealed class GatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CompletionEndpoint _endpoint;

    private GatewayHost(WebApplication app, CompletionEndpoint endpoint, Uri address, Uri? http2Address, GatewayOptions options)
    {
        _app = app;
        _endpoint = endpoint;
        Address = address;
        Http2Address = http2Address;
        Options = options;
    }

    /// <summary>Where clients reach the gateway over HTTP/1.1, for example <c>http://127.0.0.1:50123</c> (append <c>/v1</c> for OpenAI clients' base URL).</summary>
    public Uri Address { get; }

    /// <summary>The HTTP/2 cleartext (prior knowledge, h2c) endpoint when one was asked for, else null.</summary>
    /// <remarks>
    /// Kestrel cannot tell HTTP/1.1 from HTTP/2 on one cleartext port (without TLS there is no ALPN; a
    /// prior-knowledge client gets <c>HTTP_1_1_REQUIRED</c> on <see cref="Address"/>), so HTTP/2 gets a port of its own.
    /// </remarks>
    public Uri? Http2Address { get; }

    /// <summary>The limits in force.</summary>
    public GatewayOptions Options { get; }

    /// <summary>Generations running now (at most <see cref="GatewayOptions.MaxConcurrentRequests"/>).</summary>
    public int ActiveRequests => _endpoint.ActiveRequests;

    /// <summary>Starts the gateway on <paramref name="listenAddress"/>:<paramref name="port"/> (0 picks a free port) serving <paramref name="backends"/>.</summary>
    /// <param name="backends">One backend per model; the first is used when a request names no model.</param>
    /// <param name="port">TCP port of the HTTP/1.1 endpoint; 0 picks a free one.</param>
    /// <param name="listenAddress">Address to listen on (loopback by default).</param>
    /// <param name="options">Limits and defaults (see <see cref="GatewayOptions"/>).</param>
    /// <param name="http2Port">TCP port of an HTTP/2-only (h2c) endpoint; 0 picks a free one; null (the default) opens none.</param>
    /// <param name="timeProvider">Clock of <c>created</c> fields and request deadlines (the system clock by default).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="ArgumentException">No backend, or two with the same model id.</exception>
    public static async Task<GatewayHost> StartAsync(
        IReadOnlyList<ICompletionBackend> backends, int port = 0, IPAddress? listenAddress = null, GatewayOptions? options = null,
        int? http2Port = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backends);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        if (http2Port is { } h2)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(h2, nameof(http2Port));
        }

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
        ListenOptions? http1Listen = null;
        ListenOptions? http2Listen = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Listen(listenAddress ?? IPAddress.Loopback, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                http1Listen = listen;
            });
            if (http2Port is { } h2)
            {
                kestrel.Listen(listenAddress ?? IPAddress.Loopback, h2, listen =>
                {
                    listen.Protocols = HttpProtocols.Http2;
                    http2Listen = listen;
                });
            }
        });
        var app = builder.Build();
        app.Use(LastResortErrors(options));
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

        // Kestrel writes the bound port back into each endpoint's options (port 0 becomes the one it picked).
        return new GatewayHost(app, endpoint, ToUri(http1Listen), http2Listen is null ? null : ToUri(http2Listen), options);
    }

    // Anything no handler expected becomes OpenAI's error object with status 500 (and a line in the log), never an empty body.
    private static Func<Microsoft.AspNetCore.Http.HttpContext, Func<Task>, Task> LastResortErrors(GatewayOptions options) => async (context, next) =>
    {
        try
        {
            await next().ConfigureAwait(false);
        }
        catch (Exception exception) when (!context.RequestAborted.IsCancellationRequested)
        {
            options.Log?.Invoke($"gateway: unexpected failure on {context.Request.Method} {context.Request.Path}: {exception}");
            if (!context.Response.HasStarted)
            {
                await CompletionEndpoint.WriteErrorAsync(context.Response, new GatewayRequestException(
                    "The gateway failed unexpectedly while handling this request; it has been logged. Retry, and report it if it persists.",
                    null, "internal_error", Microsoft.AspNetCore.Http.StatusCodes.Status500InternalServerError, "server_error"), CancellationToken.None).ConfigureAwait(false);
            }
        }
    };

    private static Uri ToUri(ListenOptions? listen)
    {
        var endPoint = listen?.IPEndPoint ?? throw new InvalidOperationException("Kestrel started without binding the gateway's endpoint.");
        var host = endPoint.Address.Equals(IPAddress.Any) || endPoint.Address.Equals(IPAddress.IPv6Any) ? "127.0.0.1" : endPoint.Address.ToString();
        return new UriBuilder(Uri.UriSchemeHttp, host, endPoint.Port).Uri;
    }

    /// <summary>Cancels the generations in flight (their clients get 503 or a stream error event), then stops Kestrel.</summary>
    public async ValueTask DisposeAsync()
    {
        _endpoint.CancelAll();
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _endpoint.Dispose();
    }
}
