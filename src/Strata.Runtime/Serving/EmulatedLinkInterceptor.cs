using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Strata.Runtime.Serving;

/// <summary>Delays every reply of a block server by one emulated round trip (<see cref="BlockServerLimits.EmulatedRtt"/>), so a loopback swarm behaves like one spread over a WAN.</summary>
/// <remarks>
/// A unary or client-streaming call answers one round trip late; a server-streaming or duplex call sends its first
/// message one round trip late and the rest as they come (they are pipelined behind it, as on a real link). Latency only:
/// bandwidth is loopback's.
/// </remarks>
internal sealed class EmulatedLinkInterceptor(TimeSpan rtt, TimeProvider time) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var reply = await continuation(request, context).ConfigureAwait(false);
        await DelayAsync(context).ConfigureAwait(false);
        return reply;
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var reply = await continuation(requestStream, context).ConfigureAwait(false);
        await DelayAsync(context).ConfigureAwait(false);
        return reply;
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        continuation(request, new DelayedWriter<TResponse>(responseStream, this, context), context);

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        continuation(requestStream, new DelayedWriter<TResponse>(responseStream, this, context), context);

    // The system timer may fire up to a tick early; the emulated link is never faster than its round trip.
    private async Task DelayAsync(ServerCallContext context)
    {
        var start = time.GetTimestamp();
        await Task.Delay(rtt, time, context.CancellationToken).ConfigureAwait(false);
        for (var left = rtt - time.GetElapsedTime(start); left > TimeSpan.Zero; left = rtt - time.GetElapsedTime(start))
        {
            await Task.Delay(left < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : left, time, context.CancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class DelayedWriter<T>(IServerStreamWriter<T> inner, EmulatedLinkInterceptor link, ServerCallContext context) : IServerStreamWriter<T>
    {
        private bool _delayed;

        public WriteOptions? WriteOptions
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        public async Task WriteAsync(T message)
        {
            if (!_delayed)
            {
                _delayed = true;
                await link.DelayAsync(context).ConfigureAwait(false);
            }

            await inner.WriteAsync(message).ConfigureAwait(false);
        }
    }
}
