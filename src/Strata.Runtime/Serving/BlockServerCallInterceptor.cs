using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Serving;

/// <summary>Counts every block-server call by method and status, times forward steps and counts their tokens, and logs refusals and failures.</summary>
internal sealed class BlockServerCallInterceptor(BlockServerMetrics metrics, ILogger<BlockServerHost> logger, TimeProvider time) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        ObserveAsync(context, StepTokens(request), () => continuation(request, context));

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        ObserveAsync(context, null, () => continuation(requestStream, context));

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        ObserveAsync(context, StepTokens(request), async () =>
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            return true;
        });

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        ObserveAsync(context, null, async () =>
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            return true;
        });

    // The tokens of a forward step (rows of its hidden states), or null for any other call.
    private static int? StepTokens(object? request) => request switch
    {
        ForwardRequest step => Rows(step),
        ForwardStreamingRequest { Step: { } step } => Rows(step),
        _ => null,
    };

    private static int Rows(ForwardRequest step) => step.Hidden is { Shape.Count: > 0 } hidden ? (int)Math.Clamp(hidden.Shape[0], 0, int.MaxValue) : 0;

    private async Task<T> ObserveAsync<T>(ServerCallContext context, int? stepTokens, Func<Task<T>> call)
    {
        var method = context.Method[(context.Method.LastIndexOf('/') + 1)..];
        var started = time.GetTimestamp();
        var status = StatusCode.OK;
        try
        {
            var result = await call().ConfigureAwait(false);
            if (stepTokens is { } tokens)
            {
                metrics.Step(tokens, time.GetElapsedTime(started).TotalSeconds);
            }

            return result;
        }
        catch (RpcException exception)
        {
            status = exception.StatusCode;
            if (status == StatusCode.ResourceExhausted)
            {
                BlockServerHost.Log.Refused(logger, method, context.Peer, exception.Status.Detail);
            }
            else if (status is StatusCode.Internal or StatusCode.Unknown)
            {
                BlockServerHost.Log.Failed(logger, exception, method, context.Peer);
            }
            else if (status != StatusCode.Cancelled)
            {
                BlockServerHost.Log.Rejected(logger, method, context.Peer, status, exception.Status.Detail);
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
            BlockServerHost.Log.Failed(logger, exception, method, context.Peer);
            throw;
        }
        finally
        {
            metrics.Call(method, status);
        }
    }
}
