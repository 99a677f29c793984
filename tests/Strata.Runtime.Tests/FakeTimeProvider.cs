using System.Threading.Channels;

namespace Strata.Runtime.Tests;

/// <summary>A clock that moves only when told to, whose timers fire when it passes their due time and which reports every timer created.</summary>
/// <remarks>Unlike <see cref="ManualTimeProvider"/> (whose timers are real), a wait on this clock ends only by <see cref="Advance"/>: a test sees the delay a component asked for, and decides when it passes.</remarks>
internal sealed class FakeTimeProvider : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<Timer> _timers = [];
    private readonly Channel<TimeSpan> _created = Channel.CreateUnbounded<TimeSpan>();
    private long _ticks = TimeSpan.TicksPerDay;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>Timers created so far.</summary>
    public int TimersCreated { get; private set; }

    /// <summary>Timers armed now (created, not disposed, not yet fired).</summary>
    public int ArmedTimers
    {
        get
        {
            lock (_gate)
            {
                return _timers.Count(t => t.DueTicks != long.MaxValue);
            }
        }
    }

    public override long GetTimestamp()
    {
        lock (_gate)
        {
            return _ticks;
        }
    }

    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(GetTimestamp());

    /// <summary>The due time of the next timer created (in creation order), waiting at most 30 s of real time for it.</summary>
    public async Task<TimeSpan> NextTimerAsync() => await _created.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>Skips the timers created so far: <see cref="NextTimerAsync"/> then reports only later ones.</summary>
    public void SkipTimers()
    {
        while (_created.Reader.TryRead(out _))
        {
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new Timer(this, callback, state);
        lock (_gate)
        {
            TimersCreated++;
            timer.Change(dueTime, period);
            _timers.Add(timer);
        }

        _created.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>Moves the clock on, firing (on the caller's thread) the timers that come due.</summary>
    public void Advance(TimeSpan by)
    {
        List<Timer> due;
        lock (_gate)
        {
            _ticks += by.Ticks;
            due = [.. _timers.Where(t => t.DueTicks <= _ticks)];
            foreach (var timer in due)
            {
                timer.DueTicks = long.MaxValue; // one-shot: the batcher's windows never repeat
            }
        }

        foreach (var timer in due)
        {
            timer.Fire();
        }
    }

    private sealed class Timer(FakeTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public long DueTicks { get; set; } = long.MaxValue;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                DueTicks = dueTime == Timeout.InfiniteTimeSpan ? long.MaxValue : owner._ticks + dueTime.Ticks;
            }

            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner._gate)
            {
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
