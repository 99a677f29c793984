using System.Net;
using Grpc.Core;

namespace Strata.Runtime.Serving;

/// <summary>Decides which source hosts a <c>PullKv</c> may connect to.</summary>
/// <remarks>
/// <c>PullKv</c> makes this server open a TCP connection to an address a client names, so without a rule the server
/// could be used to reach any host and port its network can (server-side request forgery). The rule is tight on
/// purpose: an IP literal or <c>localhost</c>, never a name to resolve (DNS answers can change between check and
/// connect), and only a loopback address, one the operator listed in <see cref="BlockServerLimits.TrustedKvSources"/>, or the
/// host of a live member of the swarm (the coordinator names them in every heartbeat reply; see <see cref="BlockServerHost.TrustKvSources"/>).
/// </remarks>
internal static class KvSourceAddress
{
    /// <summary>The address to connect to, or INVALID_ARGUMENT (not a literal) / PERMISSION_DENIED (not allowed).</summary>
    public static IPAddress Resolve(string host, IReadOnlyList<IPAddress> trusted, IReadOnlySet<IPAddress> members)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        var literal = host.Length > 2 && host[0] == '[' && host[^1] == ']' ? host[1..^1] : host;
        if (!IPAddress.TryParse(literal, out var address))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"source_host '{host}' is not an IP address or 'localhost'; name the source by its IP literal."));
        }

        if (!IPAddress.IsLoopback(address) && !trusted.Contains(address) && !members.Contains(address))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                $"source_host {address} is neither loopback, nor the host of a live server registered with this server's coordinator, nor one of its trusted KV sources; register the source with the same coordinator to pull from it."));
        }

        return address;
    }
}
