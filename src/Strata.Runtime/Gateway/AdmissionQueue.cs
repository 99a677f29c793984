namespace Strata.Runtime.Gateway;

/// <summary>Admission of generations: at most a fixed number run, a bounded number wait first come first served, the rest are turned away with an estimate of when to retry.</summary>
/// <remarks>
/// Thread-safe. Waiters are served in arrival order (<see cref="SemaphoreSlim"/> queues asynchronous waiters and hands a
/// released slot to the oldest). The service time behind <see cref="RetryAfterSeconds"/> is an exponentially weighted
/// mean of measured request durations (admission to last byte), so it follows the load the swarm actually sees.
/// </remarks>
internal sealed class AdmissionQueue : IDisposable
{
    /// <summary>Service time assumed until a request has been measured.</summary>
    public const double InitialServiceSeconds = 1.0;

    /// <summary>Weight of the newest measurement in the running mean.</summary>
    private const double Smoothing = 0.2;

    private const int MaxRetryAfterSeconds = 3600;

    private readonly SemaphoreSlim _slots;
    private readonly int _maxRunning;
    private readonly int _maxQueued;
    private readonly Lock _serviceLock = new();
    private int _queued;
    private double _meanServiceSeconds = InitialServiceSeconds;
    private bool _measured;

    public AdmissionQueue(int maxRunning, int maxQueued)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRunning, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxQueued);
        _maxRunning = maxRunning;
        _maxQueued = maxQueued;
        _slots = new SemaphoreSlim(maxRunning, maxRunning);
    }

    /// <summary>Generations running now.</summary>
    public int Running => _maxRunning - _slots.CurrentCount;

    /// <summary>Requests waiting for a slot now.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>The running mean of measured service times, in seconds (<see cref="InitialServiceSeconds"/> before the first).</summary>
    public double MeanServiceSeconds
    {
        get
        {
            lock (_serviceLock)
            {
                return _meanServiceSeconds;
            }
        }
    }

    /// <summary>
    /// Whole seconds until the requests waiting now have all started, at the measured mean service time with every slot
    /// busy: <c>ceil(mean * (queued + 1) / slots)</c>, at least 1. A client that waits this long finds room in the queue
    /// unless new requests took it first.
    /// </summary>
    public int RetryAfterSeconds
    {
        get
        {
            var seconds = MeanServiceSeconds * (Queued + 1) / _maxRunning;
            return (int)Math.Clamp(Math.Ceiling(seconds), 1, MaxRetryAfterSeconds);
        }
    }

    /// <summary>Takes a slot, waiting in the queue if none is free; false at once when the queue is full.</summary>
    /// <exception cref="OperationCanceledException">The wait was cancelled (the client left).</exception>
    public async ValueTask<bool> EnterAsync(CancellationToken cancellationToken)
    {
        if (_slots.Wait(0, CancellationToken.None))
        {
            return true;
        }

        if (Interlocked.Increment(ref _queued) > _maxQueued)
        {
            Interlocked.Decrement(ref _queued);
            return false;
        }

        try
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _queued);
        }

        return true;
    }

    /// <summary>Frees a slot taken by <see cref="EnterAsync"/>, recording how long the request held it.</summary>
    /// <param name="serviceSeconds">Seconds from admission to the end of the request; null when not worth counting (a request cut short).</param>
    public void Exit(double? serviceSeconds)
    {
        if (serviceSeconds is { } seconds && double.IsFinite(seconds) && seconds >= 0)
        {
            lock (_serviceLock)
            {
                _meanServiceSeconds = _measured ? (1 - Smoothing) * _meanServiceSeconds + Smoothing * seconds : seconds;
                _measured = true;
            }
        }

        _slots.Release();
    }

    public void Dispose() => _slots.Dispose();
}
