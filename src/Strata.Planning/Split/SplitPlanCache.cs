namespace Strata.Planning.Split;

/// <summary>Remembers split plans per request type, so a stream of requests plans each type once.</summary>
/// <remarks>
/// <para>
/// The key is the caller's and must hold everything the instance's costs depend on: model, client and server
/// device, link class, prompt and output tokens, SLA, memory budget and planner (<see cref="SplitCacheKey"/> is
/// one such key). Then a cached plan is exactly what planning again would return, and no entry can go stale while
/// the catalog and performance model stay as they are. When they change (a catalog file reloaded, a recalibrated
/// model), call <see cref="Clear"/>.
/// </para>
/// <para>
/// Bounded: at most <see cref="Capacity"/> entries, least recently used evicted first. Thread-safe: one lock around
/// the map and recency list, never held while planning; two threads missing the same key at once may both plan,
/// and both get the plan stored first, so a key always maps to one plan object.
/// </para>
/// </remarks>
/// <typeparam name="TKey">The request-type key; needs value equality (a record or record struct).</typeparam>
public sealed class SplitPlanCache<TKey>
    where TKey : notnull
{
    private readonly Dictionary<TKey, LinkedListNode<KeyValuePair<TKey, SplitPlan>>> _entries;
    private readonly LinkedList<KeyValuePair<TKey, SplitPlan>> _recency = new(); // most recent first
    private readonly Lock _lock = new();
    private long _hits;
    private long _misses;

    /// <summary>Creates an empty cache holding at most <paramref name="capacity"/> plans.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is below 1.</exception>
    public SplitPlanCache(int capacity = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _entries = new Dictionary<TKey, LinkedListNode<KeyValuePair<TKey, SplitPlan>>>(Math.Min(capacity, 1024));
    }

    /// <summary>Most plans held at once.</summary>
    public int Capacity { get; }

    /// <summary>Plans held now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Lookups answered from the cache since creation.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Lookups that had to plan since creation.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>The plan stored for <paramref name="key"/>, or a new one from <paramref name="plan"/>, stored (evicting the least recently used when full).</summary>
    public SplitPlan GetOrAdd(TKey key, Func<TKey, SplitPlan> plan)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(plan);
        if (TryGet(key, out var cached))
        {
            return cached;
        }

        Interlocked.Increment(ref _misses);
        var created = plan(key);
        ArgumentNullException.ThrowIfNull(created, nameof(plan));
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var raced))
            {
                Touch(raced);
                return raced.Value.Value;
            }

            if (_entries.Count >= Capacity)
            {
                var oldest = _recency.Last!;
                _recency.RemoveLast();
                _entries.Remove(oldest.Value.Key);
            }

            _entries.Add(key, _recency.AddFirst(KeyValuePair.Create(key, created)));
            return created;
        }
    }

    /// <summary>The plan stored for <paramref name="key"/>, if any (marks it recently used).</summary>
    public bool TryGet(TKey key, out SplitPlan plan)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                Touch(node);
                Interlocked.Increment(ref _hits);
                plan = node.Value.Value;
                return true;
            }
        }

        plan = null!;
        return false;
    }

    /// <summary>Forgets every plan; call when the catalog or performance model the costs came from changes.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _entries.Clear();
            _recency.Clear();
        }
    }

    private void Touch(LinkedListNode<KeyValuePair<TKey, SplitPlan>> node)
    {
        if (node != _recency.First)
        {
            _recency.Remove(node);
            _recency.AddFirst(node);
        }
    }
}
