using System.Security.Cryptography;
using System.Text;

namespace Strata.Runtime.Coordination;

/// <summary>Registry entries belong to their owner: the first registration of an id issues a secret that every later change must present.</summary>
public sealed partial class ServerRegistry
{
    private readonly object _ownership = new();
    private readonly Dictionary<string, string> _secrets = new(StringComparer.Ordinal); // server id -> secret, under _ownership

    /// <summary>
    /// Registers a server as its owner: a new (or expired) id gets a fresh secret; a live id is updated only when
    /// <paramref name="presentedSecret"/> is its secret, and refused otherwise (nobody can take over a live entry).
    /// </summary>
    /// <returns>The entry and its secret, or null when refused.</returns>
    public (RegisteredServer Entry, string Secret)? RegisterOwned(RegisteredServer server, string? presentedSecret)
    {
        ArgumentNullException.ThrowIfNull(server);
        lock (_ownership)
        {
            DropExpired();
            string secret;
            if (_servers.ContainsKey(server.ServerId))
            {
                if (!SecretMatches(server.ServerId, presentedSecret))
                {
                    return null;
                }

                secret = _secrets[server.ServerId];
            }
            else
            {
                // Secrets of ids that expired or left are forgotten: the registry holds one per live entry.
                foreach (var stale in _secrets.Keys.Where(id => !_servers.ContainsKey(id)).ToList())
                {
                    _secrets.Remove(stale);
                }

                secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
                _secrets[server.ServerId] = secret;
            }

            return (Register(server), secret);
        }
    }

    /// <summary>Refreshes a server's load when the caller owns the entry and the entry still points at <paramref name="url"/>.</summary>
    public HeartbeatOutcome HeartbeatOwned(string serverId, string? secret, Uri? url, int sessions, long freeKvBytes)
    {
        lock (_ownership)
        {
            DropExpired();
            if (!_servers.TryGetValue(serverId, out var current))
            {
                return HeartbeatOutcome.Unknown;
            }

            if (!SecretMatches(serverId, secret))
            {
                return HeartbeatOutcome.NotOwner;
            }

            if (url is not null && current.Url != url)
            {
                return HeartbeatOutcome.UrlChanged;
            }

            return Heartbeat(serverId, sessions, freeKvBytes) ? HeartbeatOutcome.Refreshed : HeartbeatOutcome.Unknown;
        }
    }

    /// <summary>Removes a server when the caller owns its entry; null when the id is not registered, false when the secret is wrong.</summary>
    public bool? RemoveOwned(string serverId, string? secret)
    {
        lock (_ownership)
        {
            if (!_servers.ContainsKey(serverId))
            {
                return null;
            }

            if (!SecretMatches(serverId, secret))
            {
                return false;
            }

            _secrets.Remove(serverId);
            return Remove(serverId);
        }
    }

    private bool SecretMatches(string serverId, string? presented) =>
        _secrets.TryGetValue(serverId, out var secret)
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(presented ?? string.Empty));
}
