namespace Strata.Simulation.Cluster;

/// <summary>A growable ring buffer of ints with both ends open: FIFO queues that also take preempted work back at the front.</summary>
internal sealed class IntDeque
{
    private int[] _items = new int[16];
    private int _head;

    public int Count { get; private set; }

    public int PeekFirst() => _items[_head];

    public int PeekAt(int index) => _items[(_head + index) & (_items.Length - 1)];

    /// <summary>Removes the first occurrence of <paramref name="value"/>, keeping the others in order; false if absent.</summary>
    public bool Remove(int value)
    {
        for (var i = 0; i < Count; i++)
        {
            if (PeekAt(i) != value)
            {
                continue;
            }

            for (var j = i; j > 0; j--)
            {
                _items[(_head + j) & (_items.Length - 1)] = PeekAt(j - 1);
            }

            RemoveFirst();
            return true;
        }

        return false;
    }

    public void Clear()
    {
        _head = 0;
        Count = 0;
    }

    public void AddLast(int value)
    {
        Grow();
        _items[(_head + Count) & (_items.Length - 1)] = value;
        Count++;
    }

    public void AddFirst(int value)
    {
        Grow();
        _head = (_head - 1) & (_items.Length - 1);
        _items[_head] = value;
        Count++;
    }

    public int RemoveFirst()
    {
        var value = _items[_head];
        _head = (_head + 1) & (_items.Length - 1);
        Count--;
        return value;
    }

    private void Grow()
    {
        if (Count < _items.Length)
        {
            return;
        }

        var larger = new int[_items.Length * 2];
        for (var i = 0; i < Count; i++)
        {
            larger[i] = _items[(_head + i) & (_items.Length - 1)];
        }

        _items = larger;
        _head = 0;
    }
}
