using System.Collections.Concurrent;
using Grpc.Core;
using Strata.Runtime.Protocol;
using Strata.Runtime.Serving;

namespace Strata.Runtime.Coordination;

/// <summary>The client's round trips to the swarm's servers, measured as on a real network and handed to the coordinator's routing.</summary>
public sealed partial class CoordinatedBlockChain
{
    private readonly ConcurrentDictionary<string, double> _rtts = new(StringComparer.Ordinal);

    /// <summary>Round trips measured so far, seconds, by server id (<see cref="BlockServerClient.MeasureRoundTripSecondsAsync"/>).</summary>
    public IReadOnlyDictionary<string, double> RttSeconds => _rtts;

    /// <summary>Measures the round trip to every live server not measured yet (a server that does not answer within a second is left out).</summary>
    /// <remarks>One server at a time: probes running side by side would share the cores and time each other's scheduling.</remarks>
    internal async Task MeasureRttsAsync(IEnumerable<ServerEntry> servers, CancellationToken cancellationToken)
    {
        foreach (var s in servers.Where(s => !_rtts.ContainsKey(s.ServerId) && Uri.TryCreate(s.Url, UriKind.Absolute, out _)).ToArray())
        {
            try
            {
                _rtts[s.ServerId] = await Server(new Uri(s.Url)).MeasureRoundTripSecondsAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException)
            {
                // Not answering: the delay it announced stands in.
            }
        }
    }
}
