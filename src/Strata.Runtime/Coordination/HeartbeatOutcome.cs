namespace Strata.Runtime.Coordination;

/// <summary>What became of an owner-checked heartbeat (see <see cref="ServerRegistry.HeartbeatOwned"/>).</summary>
public enum HeartbeatOutcome
{
    /// <summary>The entry's load and last-seen time were refreshed.</summary>
    Refreshed,

    /// <summary>No live entry has the id (never registered, expired or removed): register again.</summary>
    Unknown,

    /// <summary>The entry points at another URL than the heartbeat's: register again (with the secret) to update it.</summary>
    UrlChanged,

    /// <summary>The secret presented is not the entry's: the caller does not own it.</summary>
    NotOwner,
}
