using Strata.Core.Placement;

namespace Strata.Runtime.Coordination;

/// <summary>The in-memory registry as an <see cref="IServerRegistry"/>: every operation completes at once.</summary>
public sealed partial class ServerRegistry : IServerRegistry
{
    /// <inheritdoc/>
    public string Description => "in memory";

    /// <inheritdoc/>
    /// <remarks>Never: this process holds the only copy.</remarks>
    public bool IsStale => false;

    /// <inheritdoc/>
    public event Action<string>? EntryExpired;

    /// <inheritdoc/>
    public ValueTask<(RegisteredServer Entry, string Secret)?> RegisterOwnedAsync(RegisteredServer server, string? presentedSecret, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(RegisterOwned(server, presentedSecret));

    /// <inheritdoc/>
    public ValueTask<HeartbeatOutcome> HeartbeatOwnedAsync(string serverId, string? secret, Uri? url, int sessions, long freeKvBytes, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(HeartbeatOwned(serverId, secret, url, sessions, freeKvBytes));

    /// <inheritdoc/>
    public ValueTask<bool?> RemoveOwnedAsync(string serverId, string? secret, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(RemoveOwned(serverId, secret));

    /// <inheritdoc/>
    public ValueTask<(QuarantineRecord? Record, bool NewlyQuarantined)> ReportAsync(string serverId, string reporter, string reason, CancellationToken cancellationToken = default)
    {
        var record = Report(serverId, reporter, reason, out var newly);
        return ValueTask.FromResult((record, newly));
    }

    /// <inheritdoc/>
    /// <remarks>Records nothing: one in-memory coordinator answers placements one at a time over the servers registered so far.</remarks>
    public ValueTask<BlockRange> PlaceAsync(
        string modelName, int layerCount, int maxBlocks, string? serverId, double defaultDecodeSecondsPerBlock, CancellationToken cancellationToken = default)
    {
        // The asker's own entry is left out: a live server asking is one about to move (it leaves its window).
        var servers = Live().Where(s => s.LayerCount == layerCount && string.Equals(s.ModelName, modelName, StringComparison.Ordinal)
            && !string.Equals(s.ServerId, serverId, StringComparison.Ordinal)).ToList();
        return ValueTask.FromResult(PlacementAdvisor.Place(servers, layerCount, maxBlocks, defaultDecodeSecondsPerBlock));
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
