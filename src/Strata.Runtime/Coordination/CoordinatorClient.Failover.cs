using Grpc.Core;
using Strata.Runtime.Protocol;
using Strata.Runtime.Security;

namespace Strata.Runtime.Coordination;

/// <summary>Fail-over between coordinators: a call the current coordinator could not take (unreachable, or past its deadline) goes to the next.</summary>
public sealed partial class CoordinatorClient
{
    /// <summary>
    /// Whether <paramref name="exception"/> says the coordinator could not be reached or did not answer in time (worth another
    /// coordinator), as opposed to an answer (a refusal, a bad field, or "no route": every coordinator answers those the same).
    /// </summary>
    public static bool IsUnreachable(RpcException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.StatusCode switch
        {
            StatusCode.DeadlineExceeded => true,
            // A transport failure carries the exception that broke the connection; a coordinator's own UNAVAILABLE answer ("no chain covers...") does not.
            // A coordinator whose registry copy may be stale refuses with UNAVAILABLE and a trailer saying so: another coordinator can answer.
            StatusCode.Unavailable when exception.Trailers.Get(CoordinatorService.StaleRegistryTrailer) is not null => true,
            StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown => exception.Status.DebugException is not null,
            _ => false,
        };
    }

    private async Task<T> CallAsync<T>(Func<Coordinator.CoordinatorClient, Task<T>> call, CancellationToken cancellationToken)
    {
        if (_clients.Length == 1)
        {
            return await InvokeAsync(0, call).ConfigureAwait(false);
        }

        var backoff = FirstBackoff;
        var rounds = 3;
        for (var attempt = 0; ; attempt++)
        {
            var index = Volatile.Read(ref _current);
            try
            {
                return await InvokeAsync(index, call).ConfigureAwait(false);
            }
            catch (RpcException exception) when (IsUnreachable(exception) && !cancellationToken.IsCancellationRequested && attempt < rounds * _clients.Length - 1)
            {
                var next = (index + 1) % _clients.Length;
                Interlocked.CompareExchange(ref _current, next, index);
                Interlocked.Increment(ref _failovers);
                var wait = next == 0 ? backoff : TimeSpan.Zero; // back off after each full round of coordinators
                Log.Failover(_logger, _addresses[index], _addresses[Volatile.Read(ref _current)], exception.StatusCode, exception.Status.Detail, wait.TotalMilliseconds);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                    backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
                }
            }
        }
    }

    // A failed TLS handshake becomes one sentence naming the coordinator (still a transport failure, so another
    // coordinator is tried), instead of gRPC's "Error starting gRPC call" and the TLS stack's nested exceptions.
    private async Task<T> InvokeAsync<T>(int index, Func<Coordinator.CoordinatorClient, Task<T>> call)
    {
        try
        {
            return await call(_clients[index]).ConfigureAwait(false);
        }
        catch (RpcException exception) when (exception.Status.DebugException is TlsFailureException failure)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, failure.Message, failure));
        }
    }
}
