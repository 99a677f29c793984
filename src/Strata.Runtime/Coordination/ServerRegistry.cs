using System.Collections.Concurrent;

namespace Strata.Runtime.Coordination;

/// <summary>The coordinator's registry of live block servers: registered, refreshed by heartbeats, dropped when silent for too long.</summary>
/// <remarks>Thread-safe. Expiry is lazy (every read drops silent servers first) plus a periodic sweep by the host.</remarks>
public sealed partial class ServerRegistry
{
    private readonly ConcurrentDictionary<string, RegisteredServer> _servers = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;

    /// <summary>Creates an empty registry that drops a server silent for longer than <paramref name="heartbeatTimeout"/>.</summary>
    public ServerRegistry(TimeSpan heartbeatTimeout, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(heartbeatTimeout, TimeSpan.Zero);
        _timeout = heartbeatTimeout;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The registry's clock.</summary>
    public TimeProvider TimeProvider => _time;

    /// <summary>Adds or replaces a server (its last-seen time is now).</summary>
    public RegisteredServer Register(RegisteredServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var entry = server with { LastSeenTimestamp = _time.GetTimestamp() };
        _servers[server.ServerId] = entry;
        return entry;
    }

    /// <summary>Refreshes a server's load; false when it is not registered (dropped or never seen).</summary>
    public bool Heartbeat(string serverId, int sessions, long freeKvBytes)
    {
        DropExpired();
        while (_servers.TryGetValue(serverId, out var current))
        {
            var updated = current with { Sessions = sessions, FreeKvBytes = freeKvBytes, PendingSessions = 0, PendingPromptTokens = 0, PendingDecodeTokens = 0, LastSeenTimestamp = _time.GetTimestamp() };
            if (_servers.TryUpdate(serverId, updated, current))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Counts one more session routed to <paramref name="serverId"/>, with the tokens it will prefill and decode there, until its next heartbeat reports it.</summary>
    public void AddPending(string serverId, long promptTokens, long decodeTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(promptTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(decodeTokens);
        while (_servers.TryGetValue(serverId, out var current))
        {
            var updated = current with
            {
                PendingSessions = current.PendingSessions + 1,
                PendingPromptTokens = current.PendingPromptTokens + promptTokens,
                PendingDecodeTokens = current.PendingDecodeTokens + decodeTokens,
            };
            if (_servers.TryUpdate(serverId, updated, current))
            {
                return;
            }
        }
    }

    /// <summary>Removes a server; true when it was registered.</summary>
    public bool Remove(string serverId) => _servers.TryRemove(serverId, out _);

    /// <summary>Drops every server silent for longer than the time-out; returns how many.</summary>
    public int DropExpired()
    {
        var dropped = 0;
        foreach (var (id, server) in _servers)
        {
            if (_time.GetElapsedTime(server.LastSeenTimestamp) > _timeout && _servers.TryRemove(new KeyValuePair<string, RegisteredServer>(id, server)))
            {
                dropped++;
                EntryExpired?.Invoke(id);
            }
        }

        return dropped;
    }

    /// <summary>The live servers not quarantined, ordered by id (so that every decision made over them is deterministic).</summary>
    public IReadOnlyList<RegisteredServer> Live()
    {
        DropExpired();
        return [.. _servers.Values.Where(s => !IsQuarantined(s)).OrderBy(s => s.ServerId, StringComparer.Ordinal)];
    }
}
