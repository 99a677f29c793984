using System.Collections.Concurrent;
using Grpc.Core;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Coordination;

/// <summary>The client's round trips to the swarm's servers, measured as on a real network and handed to the coordinator's routing.</summary>
public sealed partial class CoordinatedBlockChain
{
    private readonly ConcurrentDictionary<string, double> _rtts = new(StringComparer.Ordinal);

    /// <summary>Round trips measured so far, seconds, by server id (the fastest of two <c>Info</c> calls, the first of which also opens the connection).</summary>
    public IReadOnlyDictionary<string, double> RttSeconds => _rtts;

    /// <summary>Measures the round trip to every live server not measured yet (a server that does not answer within a second is left out).</summary>
    internal async Task MeasureRttsAsync(IEnumerable<ServerEntry> servers, CancellationToken cancellationToken)
    {
        var pending = servers.Where(s => !_rtts.ContainsKey(s.ServerId) && Uri.TryCreate(s.Url, UriKind.Absolute, out _)).ToArray();
        await Task.WhenAll(pending.Select(async s =>
        {
            var server = Server(new Uri(s.Url));
            var best = double.PositiveInfinity;
            for (var i = 0; i < 2; i++)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(1));
                var start = TimeProvider.GetTimestamp();
                try
                {
                    await server.InfoAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (RpcException)
                {
                    return;
                }

                best = Math.Min(best, TimeProvider.GetElapsedTime(start).TotalSeconds);
            }

            _rtts[s.ServerId] = best;
        })).ConfigureAwait(false);
    }
}
