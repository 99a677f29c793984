using System.Collections.Concurrent;

namespace Strata.Runtime.Coordination;

/// <summary>Quarantine: servers reported by enough distinct clients are left out of <see cref="Live"/>, so no route of any router goes through them.</summary>
public sealed partial class ServerRegistry
{
    private readonly ConcurrentDictionary<string, QuarantineRecord> _reports = new(StringComparer.Ordinal);

    /// <summary>Distinct reporters after which a server is quarantined. Default 1; at least 1.</summary>
    /// <remarks>Clients are not trusted: with 1, any client can quarantine any server (a denial of service, bounded by
    /// the operator restarting the coordinator). A larger value needs that many distinct peer hosts to agree.</remarks>
    public int QuarantineReportThreshold
    {
        get;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = 1;

    /// <summary>Records a report of a live server by <paramref name="reporter"/>; returns the record when the server is (now or already) quarantined, else null.</summary>
    /// <returns>The record once quarantined; null while under the threshold or when the server is not registered.</returns>
    /// <param name="serverId">The reported server.</param>
    /// <param name="reporter">Who reports (a peer host): each counts once.</param>
    /// <param name="reason">What was wrong with its reply.</param>
    /// <param name="newlyQuarantined">True when this report put the server over the threshold.</param>
    public QuarantineRecord? Report(string serverId, string reporter, string reason, out bool newlyQuarantined)
    {
        newlyQuarantined = false;
        if (!_servers.TryGetValue(serverId, out var server) && !_reports.ContainsKey(serverId))
        {
            return null;
        }

        while (true)
        {
            if (_reports.TryGetValue(serverId, out var current))
            {
                if (current.Reporters.Contains(reporter))
                {
                    return Active(current) ? current : null;
                }

                var updated = current with { Reporters = new HashSet<string>(current.Reporters.Append(reporter), StringComparer.Ordinal) };
                if (_reports.TryUpdate(serverId, updated, current))
                {
                    newlyQuarantined = !Active(current) && Active(updated);
                    return Active(updated) ? updated : null;
                }
            }
            else if (server is not null)
            {
                var fresh = new QuarantineRecord(serverId, server.Url, reason, new HashSet<string>([reporter], StringComparer.Ordinal));
                if (_reports.TryAdd(serverId, fresh))
                {
                    newlyQuarantined = Active(fresh);
                    return Active(fresh) ? fresh : null;
                }
            }
            else
            {
                return null;
            }
        }
    }

    /// <summary>Servers quarantined now, ordered by id.</summary>
    public IReadOnlyList<QuarantineRecord> Quarantined() => [.. _reports.Values.Where(Active).OrderBy(r => r.ServerId, StringComparer.Ordinal)];

    /// <summary>Lifts a quarantine (the operator's call); true when there was a report.</summary>
    public bool Pardon(string serverId) => _reports.TryRemove(serverId, out _);

    /// <summary>Whether no route may go through <paramref name="server"/>: its id, or its URL under another id, is quarantined.</summary>
    public bool IsQuarantined(RegisteredServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (_reports.IsEmpty)
        {
            return false;
        }

        return (_reports.TryGetValue(server.ServerId, out var record) && Active(record))
            || _reports.Values.Any(r => Active(r) && r.Url == server.Url);
    }

    private bool Active(QuarantineRecord record) => record.Reporters.Count >= QuarantineReportThreshold;
}
