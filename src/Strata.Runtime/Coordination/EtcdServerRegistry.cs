using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mvccpb;
using Strata.Core.Placement;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Coordination;

/// <summary>
/// The swarm's registry in etcd, shared by any number of coordinators. A server's entry lives under an etcd lease that
/// its heartbeats renew (through whichever coordinator they reach), so a server that dies disappears when the lease
/// expires; every coordinator keeps a copy of the prefix fed by an etcd watch (no polling) and answers reads from it.
/// </summary>
/// <remarks>
/// Writes are etcd transactions: an entry is changed only if its mod revision is the one whose secret hash was checked
/// (ownership enforced in the same transaction), and a placement is written only if the model's placement key is
/// unchanged since the registry snapshot it was computed from (compare-and-swap), so two coordinators never hand out the
/// same weakest window twice. Sessions routed since the last heartbeat (<see cref="AddPending"/>) stay a hint local to
/// each coordinator.
/// </remarks>
public sealed partial class EtcdServerRegistry : IServerRegistry
{
    private const int MaxTransactionTries = 20;

    private readonly EtcdRegistryOptions _options;
    private readonly EtcdClient _client;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private readonly Dictionary<string, KeyValue> _cache = new(StringComparer.Ordinal); // the prefix as of _revision, under _gate
    private readonly ConcurrentDictionary<string, (int Sessions, long PromptTokens, long DecodeTokens)> _pending = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _revision;
    private Task _watchLoop = Task.CompletedTask;
    private IReadOnlyList<RegisteredServer> _live = [];
    private IReadOnlyList<QuarantineRecord> _quarantined = [];

    private readonly ILogger _logger;

    private EtcdServerRegistry(EtcdRegistryOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<EtcdServerRegistry>();
        _lastCurrentTimestamp = time.GetTimestamp();
        _client = new EtcdClient(string.Join(',', options.Endpoints.Select(e => $"http://{e.Authority}")));
    }

    /// <inheritdoc/>
    public string Description => $"etcd at {string.Join(',', _options.Endpoints.Select(e => e.Authority))} (prefix {_options.Prefix})";

    /// <summary>Entries (live servers, quarantined ones included) in this coordinator's copy of the registry.</summary>
    public int EntryCount
    {
        get
        {
            lock (_gate)
            {
                return _cache.Keys.Count(k => k.StartsWith(ServersPrefix, StringComparison.Ordinal));
            }
        }
    }

    /// <summary>The etcd revision this coordinator's copy reflects.</summary>
    public long Revision => Interlocked.Read(ref _revision);

    /// <summary>Server entries removed without a deregistration through this coordinator (lease expiries, or another coordinator's deregistration) seen by the watch.</summary>
    public long EntriesExpired => Interlocked.Read(ref _entriesExpired);

    /// <summary>Times the watch had to be re-established (an etcd member died, or the stream broke).</summary>
    public long WatchRestarts => Interlocked.Read(ref _watchRestarts);

    /// <summary>Seconds between the last write this coordinator made and its watch delivering it (the watch lag of the last write; 0 before any).</summary>
    public double LastWatchLagSeconds => Volatile.Read(ref _lastWatchLagSeconds);

    /// <summary>Watch events applied to this coordinator's copy.</summary>
    public long WatchEvents => Interlocked.Read(ref _watchEvents);

    /// <summary>etcd calls retried after a member did not answer (the client moves to its next member).</summary>
    public long CallRetries => Interlocked.Read(ref _callRetries);

    /// <summary>Raised with the watch lag, in seconds, of each write of this coordinator (see <see cref="LastWatchLagSeconds"/>).</summary>
    public event Action<double>? WatchLagObserved;

    /// <inheritdoc/>
    public event Action<string>? EntryExpired;

    private long _entriesExpired;
    private long _watchRestarts;
    private long _watchEvents;
    private long _callRetries;
    private double _lastWatchLagSeconds;

    private string ServersPrefix => _options.Prefix + "servers/";

    private string ReportsPrefix => _options.Prefix + "reports/";

    private string ReservationsPrefix => _options.Prefix + "reservations/";

    private string PlacementKey(string model, int layers) => $"{_options.Prefix}placement/{model}/{layers}";

    private string ReservationKey(string model, int layers, string serverId) => $"{ReservationsPrefix}{model}/{layers}/{serverId}";

    /// <summary>Connects to etcd, reads the prefix and starts watching it; returns once this coordinator's copy is current.</summary>
    /// <exception cref="RpcException">No etcd member answered within the call time-out.</exception>
    public static async Task<EtcdServerRegistry> StartAsync(EtcdRegistryOptions options, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var registry = new EtcdServerRegistry(options.Validate(), timeProvider ?? TimeProvider.System);
        try
        {
            await registry.ResyncAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await registry.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        registry._watchLoop = Task.Run(() => registry.WatchLoopAsync(registry._stop.Token), CancellationToken.None);
        registry._freshnessLoop = Task.Run(() => registry.FreshnessLoopAsync(registry._stop.Token), CancellationToken.None);
        Log.Started(registry._logger, string.Join(',', options.Endpoints.Select(e => e.Authority)), options.Prefix, registry.EntryCount, registry.Revision,
            options.ServerLeaseTtl.TotalSeconds, options.StaleBound.TotalSeconds);
        return registry;
    }

    /// <inheritdoc/>
    public IReadOnlyList<RegisteredServer> Live()
    {
        var live = Volatile.Read(ref _live);
        return _pending.IsEmpty ? live : [.. live.Select(s => _pending.TryGetValue(s.ServerId, out var p) && p.Sessions > 0
            ? s with { PendingSessions = p.Sessions, PendingPromptTokens = p.PromptTokens, PendingDecodeTokens = p.DecodeTokens }
            : s)];
    }

    /// <inheritdoc/>
    public IReadOnlyList<QuarantineRecord> Quarantined() => Volatile.Read(ref _quarantined);

    /// <inheritdoc/>
    public void AddPending(string serverId, long promptTokens, long decodeTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(promptTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(decodeTokens);
        _pending.AddOrUpdate(serverId, (1, promptTokens, decodeTokens), (_, p) => (p.Sessions + 1, p.PromptTokens + promptTokens, p.DecodeTokens + decodeTokens));
    }

    /// <inheritdoc/>
    public int DropExpired() => 0; // etcd expires leases itself; the watch removes the entries

    /// <inheritdoc/>
    public async ValueTask<(RegisteredServer Entry, string Secret)?> RegisterOwnedAsync(RegisteredServer server, string? presentedSecret, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        var key = ServersPrefix + server.ServerId;
        for (var attempt = 0; attempt < MaxTransactionTries; attempt++)
        {
            var current = await GetOneAsync(key, cancellationToken).ConfigureAwait(false);
            string secret;
            long lease;
            var txn = new TxnRequest();
            if (current is not null)
            {
                var record = RegistryServerRecord.Parser.ParseFrom(current.Value);
                if (!SecretMatches(record, presentedSecret))
                {
                    return null;
                }

                secret = presentedSecret!;
                lease = record.LeaseId;
                txn.Compare.Add(new Compare { Key = Bytes(key), Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = current.ModRevision });
            }
            else
            {
                secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
                lease = await GrantAsync(_options.ServerLeaseTtl, cancellationToken).ConfigureAwait(false);
                txn.Compare.Add(new Compare { Key = Bytes(key), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
            }

            var entry = server with { Sessions = 0, PendingSessions = 0, PendingPromptTokens = 0, PendingDecodeTokens = 0 };
            var value = new RegistryServerRecord { Entry = entry.ToEntry(), SecretSha256 = ByteString.CopyFrom(Hash(secret)), LeaseId = lease };
            txn.Success.Add(Put(key, value.ToByteString(), lease));
            // A registration changes the model's coverage: bump its placement key so that a placement computed before it retries.
            txn.Success.Add(Put(PlacementKey(server.ModelName, server.LayerCount), ByteString.CopyFromUtf8(server.ServerId), 0));
            txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Bytes(ReservationKey(server.ModelName, server.LayerCount, server.ServerId)) } });
            var reply = await CallAsync(ct => _client.TransactionAsync(txn, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            if (reply.Succeeded)
            {
                if (current is not null)
                {
                    await KeepAliveAsync(lease, cancellationToken).ConfigureAwait(false);
                }

                _pending.TryRemove(server.ServerId, out _);
                await WaitForRevisionAsync(reply.Header.Revision, cancellationToken).ConfigureAwait(false);
                return (entry with { LastSeenTimestamp = _time.GetTimestamp() }, secret);
            }

            if (current is null)
            {
                await RevokeQuietlyAsync(lease).ConfigureAwait(false);
            }
        }

        throw new RpcException(new Status(StatusCode.Aborted, $"The registration of '{server.ServerId}' lost {MaxTransactionTries} etcd transactions in a row to concurrent writers; try again."));
    }

    /// <inheritdoc/>
    public async ValueTask<HeartbeatOutcome> HeartbeatOwnedAsync(string serverId, string? secret, Uri? url, int sessions, long freeKvBytes, CancellationToken cancellationToken = default)
    {
        var key = ServersPrefix + serverId;
        for (var attempt = 0; attempt < MaxTransactionTries; attempt++)
        {
            var current = await GetOneAsync(key, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                return HeartbeatOutcome.Unknown;
            }

            var record = RegistryServerRecord.Parser.ParseFrom(current.Value);
            if (!SecretMatches(record, secret))
            {
                return HeartbeatOutcome.NotOwner;
            }

            if (url is not null && !string.Equals(record.Entry.Url, url.ToString(), StringComparison.Ordinal))
            {
                return HeartbeatOutcome.UrlChanged;
            }

            if (!await KeepAliveAsync(record.LeaseId, cancellationToken).ConfigureAwait(false))
            {
                return HeartbeatOutcome.Unknown; // the lease expired between the read and the renewal
            }

            record.Entry.Sessions = sessions;
            record.Entry.FreeKvBytes = freeKvBytes;
            record.Entry.PendingSessions = 0;
            var txn = new TxnRequest();
            txn.Compare.Add(new Compare { Key = Bytes(key), Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = current.ModRevision });
            txn.Success.Add(Put(key, record.ToByteString(), record.LeaseId));
            var reply = await CallAsync(ct => _client.TransactionAsync(txn, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            if (reply.Succeeded)
            {
                _pending.TryRemove(serverId, out _);
                return HeartbeatOutcome.Refreshed;
            }
        }

        return HeartbeatOutcome.Unknown;
    }

    /// <inheritdoc/>
    public async ValueTask<bool?> RemoveOwnedAsync(string serverId, string? secret, CancellationToken cancellationToken = default)
    {
        var key = ServersPrefix + serverId;
        for (var attempt = 0; attempt < MaxTransactionTries; attempt++)
        {
            var current = await GetOneAsync(key, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                return null;
            }

            var record = RegistryServerRecord.Parser.ParseFrom(current.Value);
            if (!SecretMatches(record, secret))
            {
                return false;
            }

            var txn = new TxnRequest();
            txn.Compare.Add(new Compare { Key = Bytes(key), Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = current.ModRevision });
            txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Bytes(key) } });
            _deregistering[key] = true;
            var reply = await CallAsync(ct => _client.TransactionAsync(txn, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            if (reply.Succeeded)
            {
                await RevokeQuietlyAsync(record.LeaseId).ConfigureAwait(false);
                _pending.TryRemove(serverId, out _);
                await WaitForRevisionAsync(reply.Header.Revision, cancellationToken).ConfigureAwait(false);
                return true;
            }

            _deregistering.TryRemove(key, out _);
        }

        throw new RpcException(new Status(StatusCode.Aborted, $"The deregistration of '{serverId}' lost {MaxTransactionTries} etcd transactions in a row to concurrent writers; try again."));
    }

    private readonly ConcurrentDictionary<string, bool> _deregistering = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public async ValueTask<(QuarantineRecord? Record, bool NewlyQuarantined)> ReportAsync(string serverId, string reporter, string reason, CancellationToken cancellationToken = default)
    {
        var server = await GetOneAsync(ServersPrefix + serverId, cancellationToken).ConfigureAwait(false);
        var reportsOf = $"{ReportsPrefix}{serverId}/";
        if (server is null && (await CallAsync(ct => _client.GetRangeAsync(reportsOf, cancellationToken: ct), cancellationToken).ConfigureAwait(false)).Count == 0)
        {
            return (null, false);
        }

        var added = false;
        if (server is not null)
        {
            var url = RegistryServerRecord.Parser.ParseFrom(server.Value).Entry.Url;
            var key = reportsOf + reporter;
            var txn = new TxnRequest();
            txn.Compare.Add(new Compare { Key = Bytes(key), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
            txn.Success.Add(Put(key, new RegistryReportRecord { Url = url, Reason = reason }.ToByteString(), 0));
            added = (await CallAsync(ct => _client.TransactionAsync(txn, cancellationToken: ct), cancellationToken).ConfigureAwait(false)).Succeeded;
        }

        var reports = await CallAsync(ct => _client.GetRangeAsync(reportsOf, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        await WaitForRevisionAsync(reports.Header.Revision, cancellationToken).ConfigureAwait(false);
        var record = ToQuarantine(serverId, reports.Kvs);
        if (record is null || record.Reporters.Count < _options.QuarantineReportThreshold)
        {
            return (null, false);
        }

        return (record, added && record.Reporters.Count == _options.QuarantineReportThreshold);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Computed over one etcd snapshot of the model's live servers plus the windows handed out and not yet registered,
    /// and written (the window held for <see cref="EtcdRegistryOptions.ReservationTtl"/>) only if the model's placement key
    /// still has the snapshot's mod revision; a lost race recomputes over the newer snapshot.
    /// </remarks>
    public async ValueTask<BlockRange> PlaceAsync(
        string modelName, int layerCount, int maxBlocks, string? serverId, double defaultDecodeSecondsPerBlock, CancellationToken cancellationToken = default)
    {
        var placementKey = PlacementKey(modelName, layerCount);
        var reservationsOf = $"{ReservationsPrefix}{modelName}/{layerCount}/";
        var holder = serverId ?? "anonymous-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        for (var attempt = 0; attempt < MaxTransactionTries; attempt++)
        {
            var snapshot = await CallAsync(ct => _client.GetRangeAsync(_options.Prefix, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            var byKey = snapshot.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8(), StringComparer.Ordinal);
            var placementRevision = byKey.TryGetValue(placementKey, out var placement) ? placement.ModRevision : 0;
            var (live, _) = Derive(byKey);
            // The holder's own entry is left out: a live server asking is one about to move (it leaves its window).
            var servers = live.Where(s => s.LayerCount == layerCount && string.Equals(s.ModelName, modelName, StringComparison.Ordinal)
                && !string.Equals(s.ServerId, holder, StringComparison.Ordinal)).ToList();
            foreach (var (key, kv) in byKey)
            {
                if (key.StartsWith(reservationsOf, StringComparison.Ordinal) && !string.Equals(key[reservationsOf.Length..], holder, StringComparison.Ordinal))
                {
                    var held = RegistryReservationRecord.Parser.ParseFrom(kv.Value);
                    servers.Add(new RegisteredServer(key, new Uri("http://reserved.invalid/"), modelName, layerCount, new BlockRange(held.FirstBlock, held.BlockCount), ServerRole.Both, 0, 0, 0, 0));
                }
            }

            var blocks = PlacementAdvisor.Place(servers, layerCount, maxBlocks, defaultDecodeSecondsPerBlock);
            var lease = await GrantAsync(_options.ReservationTtl, cancellationToken).ConfigureAwait(false);
            var txn = new TxnRequest();
            txn.Compare.Add(new Compare { Key = Bytes(placementKey), Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = placementRevision });
            txn.Success.Add(Put(placementKey, ByteString.CopyFromUtf8(holder), 0));
            txn.Success.Add(Put(reservationsOf + holder, new RegistryReservationRecord { FirstBlock = blocks.First, BlockCount = blocks.Count }.ToByteString(), lease));
            var reply = await CallAsync(ct => _client.TransactionAsync(txn, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            if (reply.Succeeded)
            {
                return blocks;
            }

            await RevokeQuietlyAsync(lease).ConfigureAwait(false);
        }

        throw new RpcException(new Status(StatusCode.Aborted, $"The placement for '{modelName}' lost {MaxTransactionTries} etcd transactions in a row to concurrent placements; try again."));
    }

    /// <summary>Stops watching and closes the etcd connections (entries stay until their leases expire).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _watchLoop.ConfigureAwait(false);
            await _freshnessLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _staleCalls.Dispose();

        _client.Dispose();
        _stop.Dispose();
    }

    private static bool SecretMatches(RegistryServerRecord record, string? presented) =>
        CryptographicOperations.FixedTimeEquals(record.SecretSha256.Span, Hash(presented ?? string.Empty));

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private static ByteString Bytes(string key) => ByteString.CopyFromUtf8(key);

    private static RequestOp Put(string key, ByteString value, long lease) =>
        new() { RequestPut = new PutRequest { Key = Bytes(key), Value = value, Lease = lease } };
}
