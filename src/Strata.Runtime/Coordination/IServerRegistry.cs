using Strata.Core.Placement;

namespace Strata.Runtime.Coordination;

/// <summary>
/// What a coordinator needs of the swarm's membership: owner-checked registration, heartbeats and removal, the live
/// servers, quarantine reports and placement. <see cref="ServerRegistry"/> keeps it in this process (the default);
/// <see cref="EtcdServerRegistry"/> keeps it in etcd, so that any number of coordinators share it.
/// </summary>
public interface IServerRegistry : IAsyncDisposable
{
    /// <summary>Where the registry lives, in words (for logs): "in memory" or the etcd endpoints.</summary>
    string Description { get; }

    /// <summary>
    /// Registers a server as its owner: a new (or expired) id gets a fresh secret; a live id is updated only when
    /// <paramref name="presentedSecret"/> is its secret.
    /// </summary>
    /// <returns>The entry and its secret, or null when refused (the id is live and the secret is not its).</returns>
    ValueTask<(RegisteredServer Entry, string Secret)?> RegisterOwnedAsync(RegisteredServer server, string? presentedSecret, CancellationToken cancellationToken = default);

    /// <summary>Refreshes a server's load (and its liveness) when the caller owns the entry and the entry still points at <paramref name="url"/>.</summary>
    ValueTask<HeartbeatOutcome> HeartbeatOwnedAsync(string serverId, string? secret, Uri? url, int sessions, long freeKvBytes, CancellationToken cancellationToken = default);

    /// <summary>Removes a server when the caller owns its entry; null when the id is not registered, false when the secret is wrong.</summary>
    ValueTask<bool?> RemoveOwnedAsync(string serverId, string? secret, CancellationToken cancellationToken = default);

    /// <summary>The live servers not quarantined, ordered by id.</summary>
    IReadOnlyList<RegisteredServer> Live();

    /// <summary>Servers quarantined now, ordered by id.</summary>
    IReadOnlyList<QuarantineRecord> Quarantined();

    /// <summary>Records a report of a live server by <paramref name="reporter"/>.</summary>
    /// <returns>The record once the server is quarantined (null while under the threshold or when it is not registered), and whether this report put it over.</returns>
    ValueTask<(QuarantineRecord? Record, bool NewlyQuarantined)> ReportAsync(string serverId, string reporter, string reason, CancellationToken cancellationToken = default);

    /// <summary>Counts one more session routed to <paramref name="serverId"/>, with the prompt tokens it will prefill and the output tokens it will decode there, until its next heartbeat reports it (a hint local to this coordinator).</summary>
    void AddPending(string serverId, long promptTokens, long decodeTokens);

    /// <summary>
    /// The blocks <c>(first, count)</c> a server of <paramref name="modelName"/> able to hold <paramref name="maxBlocks"/> blocks should host
    /// (<see cref="PlacementAdvisor"/> over the live servers of the model, <paramref name="serverId"/>'s own entry left out, so that a live
    /// server asking learns where it should move).
    /// </summary>
    /// <param name="modelName">The model.</param>
    /// <param name="layerCount">Its blocks.</param>
    /// <param name="maxBlocks">Blocks the joiner can hold.</param>
    /// <param name="serverId">The id the joiner will register under, when known (a registry that records placements holds the window for it).</param>
    /// <param name="defaultDecodeSecondsPerBlock">Decode seconds per block assumed for servers that reported none.</param>
    /// <param name="cancellationToken">Cancels the decision.</param>
    ValueTask<BlockRange> PlaceAsync(
        string modelName, int layerCount, int maxBlocks, string? serverId, double defaultDecodeSecondsPerBlock, CancellationToken cancellationToken = default);

    /// <summary>Whether this copy of the registry may be out of date (a shared store not confirmed current for too long); a coordinator refuses calls while it is.</summary>
    bool IsStale { get; }

    /// <summary>Raised with a server's id when its entry leaves the registry without a deregistration through this registry object (its lease expired, or, when shared, it left through another coordinator).</summary>
    event Action<string>? EntryExpired;

    /// <summary>Drops entries whose owners stopped heartbeating (a registry whose store expires them itself does nothing); returns how many.</summary>
    int DropExpired();
}
