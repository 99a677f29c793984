using System.Diagnostics;

namespace Strata.Simulation.Engine;

/// <summary>A priority queue of simulation events ordered by (time, insertion sequence): ties break first-in, first-out.</summary>
/// <remarks>
/// A binary heap over parallel arrays of structs: enqueue and dequeue are O(log n) and allocate nothing once the
/// arrays have grown. Events are never removed early; a caller that needs cancellation stores a version stamp in
/// <typeparamref name="TEvent"/> and ignores stale events when they come out (lazy cancellation). Not thread-safe.
/// </remarks>
/// <typeparam name="TEvent">The event payload, a small struct.</typeparam>
public sealed class EventQueue<TEvent>
    where TEvent : struct
{
    private Entry[] _heap;
    private long _sequence;

    /// <summary>Creates an empty queue with room for <paramref name="capacity"/> events before it grows.</summary>
    public EventQueue(int capacity = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _heap = new Entry[capacity];
    }

    /// <summary>Events waiting.</summary>
    public int Count { get; private set; }

    /// <summary>Events ever enqueued.</summary>
    public long Enqueued => _sequence;

    /// <summary>Adds an event due at <paramref name="timeSeconds"/>.</summary>
    public void Enqueue(double timeSeconds, in TEvent payload)
    {
        Debug.Assert(double.IsFinite(timeSeconds), "event times are finite");
        if (Count == _heap.Length)
        {
            Array.Resize(ref _heap, _heap.Length * 2);
        }

        var entry = new Entry(timeSeconds, _sequence++, payload);
        var index = Count++;
        while (index > 0)
        {
            var parent = (index - 1) >> 1;
            if (!Less(entry, _heap[parent]))
            {
                break;
            }

            _heap[index] = _heap[parent];
            index = parent;
        }

        _heap[index] = entry;
    }

    /// <summary>The time of the earliest event; <see cref="double.PositiveInfinity"/> when empty.</summary>
    public double PeekTime => Count > 0 ? _heap[0].Time : double.PositiveInfinity;

    /// <summary>Removes the earliest event.</summary>
    /// <returns><see langword="false"/> when the queue is empty.</returns>
    public bool TryDequeue(out double timeSeconds, out TEvent payload)
    {
        if (Count == 0)
        {
            timeSeconds = 0;
            payload = default;
            return false;
        }

        timeSeconds = _heap[0].Time;
        payload = _heap[0].Payload;
        var last = _heap[--Count];
        _heap[Count] = default;
        if (Count > 0)
        {
            SiftDown(last);
        }

        return true;
    }

    private void SiftDown(in Entry entry)
    {
        var index = 0;
        var half = Count >> 1;
        while (index < half)
        {
            var child = 2 * index + 1;
            var right = child + 1;
            if (right < Count && Less(_heap[right], _heap[child]))
            {
                child = right;
            }

            if (!Less(_heap[child], entry))
            {
                break;
            }

            _heap[index] = _heap[child];
            index = child;
        }

        _heap[index] = entry;
    }

    private static bool Less(in Entry a, in Entry b) => a.Time < b.Time || (a.Time == b.Time && a.Sequence < b.Sequence);

    private readonly record struct Entry(double Time, long Sequence, TEvent Payload);
}
