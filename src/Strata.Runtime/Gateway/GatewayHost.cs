using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Strata.Runtime.Security;

namespace Strata.Runtime.Gateway;

/// <summary>A running OpenAI-compatible gateway: Kestrel (HTTP/1.1 and HTTP/2, cleartext or TLS with <see cref="GatewayOptions.Tls"/>) serving <c>/v1/models</c>, <c>/v1/models/{id}</c>, <c>/v1/completions</c>, <c>/v1/chat/completions</c>, <c>/health</c> and <c>/metrics</c>.</summary>
/// <remarks>See the Gateway section of <c>docs/runtime.md</c> for the fields, limits and error codes.</remarks>
public sealed partial class GatewayHost : IAsyncDisposable
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

    /// <summary>Requests waiting for a generation slot now (at most <see cref="GatewayOptions.MaxQueuedRequests"/>).</summary>
    public int QueuedRequests => _endpoint.Queue.Queued;

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
        var logger = options.LoggerFactory?.CreateLogger<GatewayHost>() ?? NullLogger<GatewayHost>.Instance;
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
                KestrelTls.Apply(listen, options.Tls);
                http1Listen = listen;
            });
            if (http2Port is { } h2)
            {
                kestrel.Listen(listenAddress ?? IPAddress.Loopback, h2, listen =>
                {
                    listen.Protocols = HttpProtocols.Http2;
                    KestrelTls.Apply(listen, options.Tls);
                    http2Listen = listen;
                });
            }
        });
        var app = builder.Build();
        app.Use(AccessLog(logger, endpoint.Metrics, time));
        app.Use(LastResortErrors(logger));
        if (options.ApiKey is { } apiKey)
        {
            app.Use(RequireApiKey(apiKey));
        }

        var modelIds = backends.Select(b => b.ModelId).ToArray();
        app.MapGet("/v1/models", context => WriteJsonAsync(context, OpenAiPayloads.ModelList(modelIds, startedUnixSeconds)));
        app.MapGet("/v1/models/{**id}", context =>
        {
            var id = (string)context.GetRouteValue("id")!;
            return modelIds.Contains(id, StringComparer.Ordinal)
                ? WriteJsonAsync(context, OpenAiPayloads.Model(id, startedUnixSeconds))
                : CompletionEndpoint.WriteErrorAsync(context.Response, CompletionRequestParser.ModelNotFound(id, backends), context.RequestAborted);
        });
        app.MapPost("/v1/completions", context => endpoint.HandleAsync(context, isChat: false));
        app.MapPost("/v1/chat/completions", context => endpoint.HandleAsync(context, isChat: true));
        app.MapGet("/health", context => WriteJsonAsync(context, new { Status = "ok", Running = endpoint.Queue.Running, Queued = endpoint.Queue.Queued }));
        app.MapGet("/metrics", context =>
        {
            context.Response.ContentType = GatewayMetrics.ContentType;
            return endpoint.Metrics.WriteAsync(context.Response.Body, context.RequestAborted);
        });
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
        var scheme = options.Tls?.ServesTls == true ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;
        var host = new GatewayHost(app, endpoint, ToUri(http1Listen, scheme), http2Listen is null ? null : ToUri(http2Listen, scheme), options);
        Log.Started(logger, host.Address, string.Join(", ", modelIds), options.MaxConcurrentRequests, options.MaxQueuedRequests);
        return host;
    }

    private static Task WriteJsonAsync(HttpContext context, object payload)
    {
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, payload, CompletionEndpoint.JsonOptions, context.RequestAborted);
    }

    // One access-log line and one request count per request; a status with no body yet (an unknown route, a wrong method)
    // gets OpenAI's error object first, so no path answers with an empty body.
    private static Func<HttpContext, Func<Task>, Task> AccessLog(ILogger logger, GatewayMetrics metrics, TimeProvider time) => async (context, next) =>
    {
        var started = time.GetTimestamp();
        try
        {
            await next().ConfigureAwait(false);
            if (!context.Response.HasStarted && context.Response.StatusCode >= StatusCodes.Status400BadRequest)
            {
                await CompletionEndpoint.WriteErrorAsync(context.Response, EmptyError(context), context.RequestAborted).ConfigureAwait(false);
            }
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            var status = context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted ? 499 : context.Response.StatusCode;
            metrics.Request(route, status);
            Log.Access(logger, context.Request.Method, context.Request.Path.Value ?? "/", status, time.GetElapsedTime(started).TotalMilliseconds,
                context.Connection.RemoteIpAddress?.ToString());
        }
    };

    private static GatewayRequestException EmptyError(HttpContext context)
    {
        var what = $"{context.Request.Method} {context.Request.Path}";
        return context.Response.StatusCode switch
        {
            StatusCodes.Status404NotFound => new($"Unknown route {what}; this gateway serves GET /v1/models, GET /v1/models/{{id}}, POST /v1/completions, POST /v1/chat/completions, GET /health and GET /metrics.",
                null, "unknown_url", StatusCodes.Status404NotFound),
            StatusCodes.Status405MethodNotAllowed => new($"{what}: method not allowed on this route (completions take POST, models GET).", null, "method_not_allowed", StatusCodes.Status405MethodNotAllowed),
            var status => new($"{what} failed with HTTP {status}.", null, null, status, status >= 500 ? "server_error" : "invalid_request_error"),
        };
    }

    // Bearer check on the API (/v1/*), compared in constant time; /health and /metrics stay open for probes and scrapers.
    private static Func<HttpContext, Func<Task>, Task> RequireApiKey(string apiKey)
    {
        var expected = Encoding.UTF8.GetBytes(apiKey);
        return async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal))
            {
                var header = context.Request.Headers.Authorization.ToString();
                const string Scheme = "Bearer ";
                var given = header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? Encoding.UTF8.GetBytes(header[Scheme.Length..].Trim()) : [];
                if (!CryptographicOperations.FixedTimeEquals(given, expected))
                {
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    await CompletionEndpoint.WriteErrorAsync(context.Response, new GatewayRequestException(
                        given.Length == 0
                            ? "No API key was given; send it as the header Authorization: Bearer KEY (the gateway's --api-key)."
                            : "Incorrect API key provided; send the gateway's --api-key as Authorization: Bearer KEY.",
                        null, "invalid_api_key", StatusCodes.Status401Unauthorized), context.RequestAborted).ConfigureAwait(false);
                    return;
                }
            }

            await next().ConfigureAwait(false);
        };
    }

    // Anything no handler expected becomes OpenAI's error object with status 500 (and a line in the log), never an empty body.
    private static Func<HttpContext, Func<Task>, Task> LastResortErrors(ILogger logger) => async (context, next) =>
    {
        try
        {
            await next().ConfigureAwait(false);
        }
        catch (Exception exception) when (!context.RequestAborted.IsCancellationRequested)
        {
            Log.Unexpected(logger, exception, context.Request.Method, context.Request.Path.Value ?? "/");
            if (!context.Response.HasStarted)
            {
                await CompletionEndpoint.WriteErrorAsync(context.Response, new GatewayRequestException(
                    "The gateway failed unexpectedly while handling this request; it has been logged. Retry, and report it if it persists.",
                    null, "internal_error", StatusCodes.Status500InternalServerError, "server_error"), CancellationToken.None).ConfigureAwait(false);
            }
        }
    };

    private static Uri ToUri(ListenOptions? listen, string scheme)
    {
        var endPoint = listen?.IPEndPoint ?? throw new InvalidOperationException("Kestrel started without binding the gateway's endpoint.");
        var host = endPoint.Address.Equals(IPAddress.Any) || endPoint.Address.Equals(IPAddress.IPv6Any) ? "127.0.0.1" : endPoint.Address.ToString();
        return new UriBuilder(scheme, host, endPoint.Port).Uri;
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
