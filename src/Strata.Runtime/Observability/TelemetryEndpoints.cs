using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Prometheus;

namespace Strata.Runtime.Observability;

/// <summary>The <c>/health</c> and <c>/metrics</c> routes of the coordinator and block-server hosts, and their optional HTTP/1.1 listener.</summary>
internal static class TelemetryEndpoints
{
    /// <summary>The Prometheus text exposition format's content type.</summary>
    public const string MetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

    private static readonly JsonSerializerOptions HealthJson = new(JsonSerializerDefaults.Web);

    /// <summary>Maps <c>GET /health</c> (200 with <paramref name="health"/>'s body when healthy, else 503) and <c>GET /metrics</c> (every metric of <paramref name="metrics"/>).</summary>
    public static void Map(WebApplication app, CollectorRegistry metrics, Func<(bool Healthy, object Body)> health)
    {
        app.MapGet("/health", context =>
        {
            var (healthy, body) = health();
            context.Response.StatusCode = healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
            context.Response.ContentType = "application/json";
            return JsonSerializer.SerializeAsync(context.Response.Body, body, body.GetType(), HealthJson, context.RequestAborted);
        });
        app.MapGet("/metrics", context =>
        {
            context.Response.ContentType = MetricsContentType;
            return metrics.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
        });
    }

    /// <summary>Where a listener bound (port 0 becomes the port Kestrel picked).</summary>
    public static Uri ToUri(ListenOptions listen)
    {
        var endPoint = listen.IPEndPoint ?? throw new InvalidOperationException("Kestrel started without binding the metrics endpoint.");
        var host = endPoint.Address.Equals(IPAddress.Any) || endPoint.Address.Equals(IPAddress.IPv6Any) ? "127.0.0.1" : endPoint.Address.ToString();
        return new UriBuilder(Uri.UriSchemeHttp, host, endPoint.Port).Uri;
    }
}
