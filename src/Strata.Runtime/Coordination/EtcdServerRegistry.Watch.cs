using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Mvccpb;
using Strata.Core.Placement;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Coordination;

/// <summary>The coordinator's copy of the prefix: one snapshot, then an etcd watch from the next revision; re-read and re-watched (on the next member) whenever the watch breaks.</summary>
public sealed partial class EtcdServerRegistry
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    private async Task WatchLoopAsync(CancellationToken cancellationToken)
    {
        var member = 0;
        var backoff = TimeSpan.FromMilliseconds(50);
        var first = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            var endpoint = _options.Endpoints[member % _options.Endpoints.Count];
            using var restart = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Volatile.Write(ref _watchRestart, restart);
            Volatile.Write(ref _watchMember, endpoint.Authority);
            GrpcChannel? channel = null;
            AsyncDuplexStreamingCall<WatchRequest, WatchResponse>? call = null;
            try
            {
                if (!first)
                {
                    await ResyncAsync(restart.Token).ConfigureAwait(false);
                }

                first = false;
                channel = GrpcChannel.ForAddress($"http://{endpoint.Authority}");
                call = new Watch.WatchClient(channel).Watch(cancellationToken: restart.Token);
                await call.RequestStream.WriteAsync(new WatchRequest
                {
                    CreateRequest = new WatchCreateRequest
                    {
                        Key = ByteString.CopyFromUtf8(_options.Prefix),
                        RangeEnd = ByteString.CopyFromUtf8(PrefixEnd(_options.Prefix)),
                        StartRevision = Revision + 1,
                        ProgressNotify = true,
                    },
                }, restart.Token).ConfigureAwait(false);
                Volatile.Write(ref _watchRequests, call.RequestStream);
                while (await call.ResponseStream.MoveNext(restart.Token).ConfigureAwait(false))
                {
                    var response = call.ResponseStream.Current;
                    if (response.Canceled || response.CompactRevision > 0)
                    {
                        throw new RpcException(new Status(StatusCode.Aborted, $"etcd cancelled the watch: {response.CancelReason} (compacted to {response.CompactRevision})"));
                    }

                    Apply(response.Events, response.Header.Revision);
                    backoff = TimeSpan.FromMilliseconds(50);
                }

                throw new RpcException(new Status(StatusCode.Unavailable, "the watch stream ended"));
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested
                && exception is RpcException or IOException or HttpRequestException or InvalidOperationException or OperationCanceledException)
            {
                Volatile.Write(ref _watchRequests, null);
                Interlocked.Increment(ref _watchRestarts);
                member++;
                Log.WatchFailover(_logger, endpoint.Authority, restart.IsCancellationRequested ? "it fell behind etcd" : Describe(exception),
                    _options.Endpoints[member % _options.Endpoints.Count].Authority, backoff.TotalMilliseconds);
                try
                {
                    await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
            }
            catch (Exception exception) when (cancellationToken.IsCancellationRequested && exception is OperationCanceledException or RpcException)
            {
                return; // disposed
            }
            finally
            {
                // In the background: closing a connection to a frozen member can take seconds, and the next watch should not wait for it.
                var (oldCall, oldChannel) = (call, channel);
                _ = Task.Run(() =>
                {
                    oldCall?.Dispose();
                    oldChannel?.Dispose();
                }, CancellationToken.None);
            }
        }
    }

    private static string Describe(Exception exception) => exception is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : exception.Message;

    // Reads the whole prefix and replaces the copy with it (at the read's revision).
    private async Task ResyncAsync(CancellationToken cancellationToken)
    {
        // Short attempts: an attempt that lands on a frozen member gives up in time for the retry, on another, to keep the copy current.
        var started = _time.GetTimestamp();
        var snapshot = await CallAsync(ct => _client.GetRangeAsync(_options.Prefix, cancellationToken: ct), cancellationToken, _options.StaleBound / 4).ConfigureAwait(false);
        List<string>? expired = null;
        lock (_gate)
        {
            var fresh = snapshot.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8(), StringComparer.Ordinal);
            // Entries that went while the watch was down leave without an event: count them here.
            foreach (var key in _cache.Keys.Where(k => k.StartsWith(ServersPrefix, StringComparison.Ordinal) && !fresh.ContainsKey(k)))
            {
                if (!_deregistering.TryRemove(key, out _))
                {
                    Interlocked.Increment(ref _entriesExpired);
                    (expired ??= []).Add(key[ServersPrefix.Length..]);
                }
            }

            _cache.Clear();
            foreach (var (key, kv) in fresh)
            {
                _cache[key] = kv;
            }

            Publish(snapshot.Header.Revision);
        }

        foreach (var serverId in expired ?? [])
        {
            EntryExpired?.Invoke(serverId);
        }

        MarkCurrent(started); // a linearizable read: the copy holds etcd's latest revision as of the call
    }

    private void Apply(IReadOnlyCollection<Event> events, long revision)
    {
        List<string>? expired = null;
        lock (_gate)
        {
            Interlocked.Add(ref _watchEvents, events.Count);
            foreach (var e in events)
            {
                var key = e.Kv.Key.ToStringUtf8();
                if (e.Type == Event.Types.EventType.Delete)
                {
                    if (_cache.Remove(key) && key.StartsWith(ServersPrefix, StringComparison.Ordinal) && !_deregistering.TryRemove(key, out _))
                    {
                        Interlocked.Increment(ref _entriesExpired);
                        (expired ??= []).Add(key[ServersPrefix.Length..]);
                    }
                }
                else
                {
                    _cache[key] = e.Kv;
                    if (key.StartsWith(ServersPrefix, StringComparison.Ordinal))
                    {
                        _pending.TryRemove(key[ServersPrefix.Length..], out _);
                    }
                }
            }

            Publish(Math.Max(revision, Revision));
        }

        foreach (var serverId in expired ?? [])
        {
            EntryExpired?.Invoke(serverId);
        }
    }

    // Under _gate: derives the live and quarantined lists from the copy, then wakes writers waiting for this revision.
    private void Publish(long revision)
    {
        var (live, quarantined) = Derive(_cache);
        Volatile.Write(ref _live, live);
        Volatile.Write(ref _quarantined, quarantined);
        Interlocked.Exchange(ref _revision, revision);
        foreach (var (target, waiter) in _revisionWaiters.ToArray())
        {
            if (target <= revision)
            {
                _revisionWaiters.Remove((target, waiter));
                waiter.TrySetResult();
            }
        }

        _synced.TrySetResult();
    }

    private readonly List<(long Revision, TaskCompletionSource Waiter)> _revisionWaiters = []; // under _gate

    // Waits (bounded by the call time-out) until the watch has delivered revision, so this coordinator reads its own writes.
    private async Task WaitForRevisionAsync(long revision, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        TaskCompletionSource waiter;
        lock (_gate)
        {
            if (Revision >= revision)
            {
                return;
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _revisionWaiters.Add((revision, waiter));
        }

        try
        {
            await waiter.Task.WaitAsync(_options.CallTimeout, _time, cancellationToken).ConfigureAwait(false);
            var lag = _time.GetElapsedTime(started).TotalSeconds;
            Volatile.Write(ref _lastWatchLagSeconds, lag);
            WatchLagObserved?.Invoke(lag);
        }
        catch (TimeoutException)
        {
            // The watch is behind (an etcd member died): the write is in etcd; this copy catches up when the watch is back.
        }
    }

    private (IReadOnlyList<RegisteredServer> Live, IReadOnlyList<QuarantineRecord> Quarantined) Derive(IReadOnlyDictionary<string, KeyValue> byKey)
    {
        var servers = new List<RegisteredServer>();
        var reports = new Dictionary<string, List<KeyValue>>(StringComparer.Ordinal);
        foreach (var (key, kv) in byKey)
        {
            if (key.StartsWith(ServersPrefix, StringComparison.Ordinal))
            {
                var entry = RegistryServerRecord.Parser.ParseFrom(kv.Value).Entry;
                servers.Add(new RegisteredServer(entry.ServerId, new Uri(entry.Url), entry.ModelName, entry.LayerCount, new BlockRange(entry.FirstBlock, entry.BlockCount), entry.Role,
                    entry.FreeKvBytes, entry.Sessions, entry.DecodeSecondsPerBlock, 0)
                {
                    EmulatedRttSeconds = entry.EmulatedRttSeconds,
                    PrefillSecondsPerBlockPerToken = entry.PrefillSecondsPerBlockPerToken,
                    KvCapacityBytes = entry.KvCapacityBytes,
                });
            }
            else if (key.StartsWith(ReportsPrefix, StringComparison.Ordinal))
            {
                var id = key[ReportsPrefix.Length..key.LastIndexOf('/')];
                if (!reports.TryGetValue(id, out var list))
                {
                    reports[id] = list = [];
                }

                list.Add(kv);
            }
        }

        var quarantined = reports
            .Select(r => ToQuarantine(r.Key, r.Value))
            .Where(q => q is not null && q.Reporters.Count >= _options.QuarantineReportThreshold)
            .Select(q => q!)
            .OrderBy(q => q.ServerId, StringComparer.Ordinal)
            .ToList();
        var live = servers
            .Where(s => !quarantined.Any(q => q.ServerId == s.ServerId || q.Url == s.Url))
            .OrderBy(s => s.ServerId, StringComparer.Ordinal)
            .ToList();
        return (live, quarantined);
    }

    private QuarantineRecord? ToQuarantine(string serverId, IEnumerable<KeyValue> reports)
    {
        var ordered = reports.OrderBy(kv => kv.CreateRevision).ToList();
        if (ordered.Count == 0)
        {
            return null;
        }

        var firstReport = RegistryReportRecord.Parser.ParseFrom(ordered[0].Value);
        var prefix = $"{ReportsPrefix}{serverId}/";
        var reporters = ordered.Select(kv => kv.Key.ToStringUtf8()[prefix.Length..]).ToHashSet(StringComparer.Ordinal);
        return new QuarantineRecord(serverId, new Uri(firstReport.Url), firstReport.Reason, reporters);
    }

    private static string PrefixEnd(string prefix)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(prefix);
        bytes[^1]++; // the prefix ends with '/', so no carry
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    private async Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken, TimeSpan? attemptTimeout = null)
    {
        var backoff = TimeSpan.FromMilliseconds(50);
        for (var attempt = 0; ; attempt++)
        {
            var stale = Volatile.Read(ref _staleCalls).Token;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token, stale);
            // Each attempt gets at most a third of the staleness bound: a call that lands on a frozen member (its connection
            // open, nothing answering) gives up early enough for the retry, on the next member, to beat the server's lease.
            timeout.CancelAfter(TimeSpan.FromTicks(Math.Min(_options.CallTimeout.Ticks, (attemptTimeout ?? _options.StaleBound / 3).Ticks)));
            try
            {
                return await call(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (stale.IsCancellationRequested && !cancellationToken.IsCancellationRequested && !_stop.IsCancellationRequested
                && exception is OperationCanceledException or RpcException)
            {
                // The copy went stale while this call waited on etcd: give up now, so the caller's client moves to another coordinator in time.
                throw CoordinatorService.StaleRegistry(Description);
            }
            catch (Exception exception) when (attempt < 4 && !cancellationToken.IsCancellationRequested && !_stop.IsCancellationRequested
                && exception is OperationCanceledException or RpcException { StatusCode: StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled or StatusCode.Internal })
            {
                // A member died or lost its leader: the client's other members (or the new leader) answer the retry.
                Interlocked.Increment(ref _callRetries);
                Log.CallRetry(_logger, exception is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : "timed out", backoff.TotalMilliseconds);
                await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
                backoff *= 2;
            }
        }
    }

    private async Task<KeyValue?> GetOneAsync(string key, CancellationToken cancellationToken) =>
        (await CallAsync(ct => _client.GetAsync(key, cancellationToken: ct), cancellationToken).ConfigureAwait(false)).Kvs.FirstOrDefault();

    private async Task<long> GrantAsync(TimeSpan ttl, CancellationToken cancellationToken) =>
        (await CallAsync(ct => _client.LeaseGrantAsync(new LeaseGrantRequest { TTL = (long)Math.Ceiling(ttl.TotalSeconds) }, cancellationToken: ct), cancellationToken)
            .ConfigureAwait(false)).ID;

    // One keep-alive of a lease: true when etcd still had it (and has renewed it to its full TTL).
    private async Task<bool> KeepAliveAsync(long lease, CancellationToken cancellationToken)
    {
        long ttl = 0;
        await CallAsync(async ct =>
        {
            await _client.LeaseKeepAlive(new LeaseKeepAliveRequest { ID = lease }, response => ttl = response.TTL, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
        return ttl > 0;
    }

    private async Task RevokeQuietlyAsync(long lease)
    {
        try
        {
            using var timeout = new CancellationTokenSource(_options.CallTimeout);
            await _client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, cancellationToken: timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is RpcException or OperationCanceledException)
        {
            // It expires by itself.
        }
    }
}
