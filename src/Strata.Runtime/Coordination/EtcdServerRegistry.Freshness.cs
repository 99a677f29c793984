using Etcdserverpb;
using Grpc.Core;

namespace Strata.Runtime.Coordination;

/// <summary>
/// Whether this coordinator's copy is current: a probe (started every quarter of <see cref="EtcdRegistryOptions.StaleBound"/>, up to four in flight) reads
/// etcd's revision (a linearizable read, which a member cut off from the quorum cannot answer) and asks the watch for a
/// progress report; the copy is current as of the probe once the watch has delivered that revision.
/// </summary>
/// <remarks>
/// A copy not confirmed for longer than the bound is stale: the coordinator refuses every call (clients fail over),
/// calls waiting on etcd give up, and <c>/health</c> answers 503. A watch that stays behind for half the bound (its member
/// stopped answering without closing the stream, as a frozen or partitioned member does) is moved to the next member;
/// its re-read of the prefix (a linearizable read) confirms the copy by itself.
/// </remarks>
public sealed partial class EtcdServerRegistry
{
    private Task _freshnessLoop = Task.CompletedTask;
    private long _lastCurrentTimestamp;
    private int _stale;
    private CancellationTokenSource _staleCalls = new(); // cancelled (and replaced) when the copy goes stale
    private CancellationTokenSource? _watchRestart;
    private IClientStreamWriter<WatchRequest>? _watchRequests;
    private string _watchMember = string.Empty;

    /// <inheritdoc/>
    /// <remarks>Read from the clock at each call, so that it does not wait for the probe loop's next turn.</remarks>
    public bool IsStale => _time.GetElapsedTime(Interlocked.Read(ref _lastCurrentTimestamp)) > _options.StaleBound;

    /// <summary>Seconds since this copy was last confirmed to hold etcd's latest revision.</summary>
    public double SecondsSinceCurrent => _time.GetElapsedTime(Interlocked.Read(ref _lastCurrentTimestamp)).TotalSeconds;

    private async Task FreshnessLoopAsync(CancellationToken cancellationToken)
    {
        const int MaxProbesInFlight = 4;
        var bound = _options.StaleBound;
        var interval = bound / 4;
        var unconfirmed = new List<(long Revision, long Timestamp)>(); // probes the watch has not caught up with, oldest first
        var probes = new List<Task<(long? Revision, long Timestamp)>>();
        var lastRestart = _time.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            // Probes overlap: one that went to a frozen member waits out its time-out while the next, on another member, answers.
            foreach (var done in probes.Where(p => p.IsCompleted).ToList())
            {
                probes.Remove(done);
                if ((await done.ConfigureAwait(false)) is ({ } revision, var probed))
                {
                    unconfirmed.Add((revision, probed));
                }
            }

            var revisionNow = Revision;
            var confirmed = unconfirmed.Where(u => u.Revision <= revisionNow).Select(u => u.Timestamp).DefaultIfEmpty(long.MinValue).Max();
            if (confirmed != long.MinValue)
            {
                MarkCurrent(confirmed);
                unconfirmed.RemoveAll(u => u.Revision <= revisionNow);
            }

            unconfirmed.Sort((x, y) => x.Timestamp.CompareTo(y.Timestamp));
            if (unconfirmed.Count > 0)
            {
                RequestProgress();
            }

            if (probes.Count < MaxProbesInFlight)
            {
                probes.Add(ProbeAsync(bound, cancellationToken));
            }

            // A healthy watch answers a progress request within milliseconds: one still behind a probe of a quarter bound ago has
            // stalled. Restarted at most every half bound; its re-read confirms the copy (see ResyncAsync).
            if (unconfirmed.Count > 0 && _time.GetElapsedTime(unconfirmed[0].Timestamp) > interval && _time.GetElapsedTime(lastRestart) > bound / 2
                && Volatile.Read(ref _watchRestart) is { } restart)
            {
                Log.WatchStalled(_logger, Volatile.Read(ref _watchMember), unconfirmed[^1].Revision - revisionNow, _time.GetElapsedTime(unconfirmed[0].Timestamp).TotalSeconds);
                lastRestart = _time.GetTimestamp();
                try
                {
                    await restart.CancelAsync().ConfigureAwait(false);
                }
                catch (ObjectDisposedException)
                {
                    // That watch ended by itself.
                }
            }

            CheckStaleness(bound);
        }

        await Task.WhenAll(probes).ConfigureAwait(false);
    }

    private async Task<(long? Revision, long Timestamp)> ProbeAsync(TimeSpan bound, CancellationToken cancellationToken)
    {
        var probed = _time.GetTimestamp();
        return (await ReadRevisionAsync(bound, cancellationToken).ConfigureAwait(false), probed);
    }

    // etcd's current revision (a linearizable count-only read of the prefix), or null when no member answered in time.
    private async Task<long?> ReadRevisionAsync(TimeSpan bound, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(bound);
            var reply = await _client.GetAsync(new RangeRequest
            {
                Key = Bytes(_options.Prefix),
                RangeEnd = Bytes(PrefixEnd(_options.Prefix)),
                CountOnly = true,
            }, cancellationToken: timeout.Token).ConfigureAwait(false);
            return reply.Header.Revision;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested && exception is RpcException or OperationCanceledException or InvalidOperationException)
        {
            return null;
        }
    }

    // Asks the watch's member to report its revision (etcd 3.4+), so that a watch on a quiet prefix still catches up with writes elsewhere.
    private void RequestProgress()
    {
        if (Volatile.Read(ref _watchRequests) is not { } requests)
        {
            return;
        }

        _ = SendAsync();

        async Task SendAsync()
        {
            try
            {
                await requests.WriteAsync(new WatchRequest { ProgressRequest = new WatchProgressRequest() }).WaitAsync(_options.StaleBound, _time).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is RpcException or InvalidOperationException or TimeoutException or OperationCanceledException or IOException)
            {
                // The watch is broken or busy; the watch loop or the next probe deals with it.
            }
        }
    }

    private void MarkCurrent(long timestamp)
    {
        long seen;
        do
        {
            seen = Interlocked.Read(ref _lastCurrentTimestamp);
            if (timestamp <= seen)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _lastCurrentTimestamp, timestamp, seen) != seen);
    }

    private void CheckStaleness(TimeSpan bound)
    {
        var age = _time.GetElapsedTime(Interlocked.Read(ref _lastCurrentTimestamp));
        if (age > bound)
        {
            if (Interlocked.Exchange(ref _stale, 1) == 0)
            {
                Log.Stale(_logger, age.TotalSeconds, bound.TotalSeconds);
                // Not disposed: a call may be reading its token right now; a CTS without a timer holds nothing to release.
                Interlocked.Exchange(ref _staleCalls, new CancellationTokenSource()).Cancel();
            }
        }
        else if (Interlocked.Exchange(ref _stale, 0) == 1)
        {
            Log.Current(_logger, Revision);
        }
    }
}
