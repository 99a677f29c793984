using Strata.Core.Placement;
using Strata.Planning.Live;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Coordination;

/// <summary>The coordinator's registry entries as the planner's live snapshot (<see cref="LiveServer"/>), for clients that route or predict over it.</summary>
public static class LiveServers
{
    /// <summary>The entry as a live server, with the client's measured round trip <paramref name="rttSeconds"/> (null: the delay the server announced).</summary>
    public static LiveServer ToLive(this ServerEntry entry, double? rttSeconds = null)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return new LiveServer(entry.ServerId, new BlockRange(entry.FirstBlock, entry.BlockCount), RegisteredServer.PhaseOf(entry.Role), entry.FreeKvBytes, entry.Sessions,
            entry.PendingSessions, entry.DecodeSecondsPerBlock, rttSeconds ?? entry.EmulatedRttSeconds)
        {
            PrefillSecondsPerBlockPerToken = entry.PrefillSecondsPerBlockPerToken,
            KvCapacityBytes = entry.KvCapacityBytes,
        };
    }
}
