using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Strata.Runtime.Coordination;

/// <summary>
/// Every coordinator call: refused with UNAVAILABLE (marked so that clients fail over) while the registry copy may be
/// stale, then counted by method and status.
/// </summary>
/// <remarks>
/// A coordinator cut off from etcd would otherwise answer routes and placements from a copy that no longer reflects
/// the swarm (servers gone, quarantines it never saw) and accept heartbeats it cannot write; refusing sends every
/// client to a coordinator that can see etcd.
/// </remarks>
internal sealed class CoordinatorCallInterceptor(IServerRegistry registry, CoordinatorMetrics metrics, ILogger<CoordinatorHost> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var method = context.Method[(context.Method.LastIndexOf('/') + 1)..];
        var status = StatusCode.OK;
        try
        {
            if (registry.IsStale)
            {
                CoordinatorHost.Log.RefusedStale(logger, method, context.Peer);
                throw CoordinatorService.StaleRegistry(registry.Description);
            }

            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (RpcException exception)
        {
            status = exception.StatusCode;
            if (exception.Trailers.Get(CoordinatorService.StaleRegistryTrailer) is not null)
            {
                metrics.RefusedStale(); // refused up front, or given up while it waited on etcd
            }

            throw;
        }
        catch (OperationCanceledException)
        {
            status = StatusCode.Cancelled;
            throw;
        }
        catch (Exception exception)
        {
            status = StatusCode.Unknown;
            CoordinatorHost.Log.Unexpected(logger, exception, method);
            throw;
        }
        finally
        {
            metrics.Call(method, status);
        }
    }
}
