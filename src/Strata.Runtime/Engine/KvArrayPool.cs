using System.Diagnostics;
using System.Numerics;

namespace Strata.Runtime.Engine;

/// <summary>Recycles the float arrays of KV caches, so that a new session reuses the memory of a closed one instead of faulting in new pages.</summary>
/// <remarks>
/// <para>
/// Arrays are kept by size class: eight classes per power of two (16, 18, 20, ... 30, 32, 36, ...; every length below
/// 16 is its own class). A new array is allocated at its class length, at most an eighth more than asked for. A
/// request is served by the smallest idle array whose class lies between the request and twice it, so at most half of
/// a reused array goes unused: the bound the caches' own doubling growth already accepts. Caches ask for lengths
/// doubling from 16 tokens (appends) and for exact token counts (imports); eight classes an octave let an exact-sized
/// import reuse the array of a slightly different prompt, and the two-fold window lets it reuse a grown cache's array.
/// (<see cref="System.Buffers.ArrayPool{T}.Shared"/> rounds every length up to a power of two, which would double the
/// memory of exact-sized imports.)
/// </para>
/// <para>
/// A KV cache rents only at its request's own class (<see cref="Rent(int, int)"/> with the class as the bound), so that
/// the size of its arrays is known before the call: a block server admits a step against the bytes it will really
/// hold. Such a cache reuses arrays of its class only (requests within an eighth of an octave of each other).
/// </para>
/// <para>
/// At most <see cref="MaxIdleBytes"/> of idle arrays are kept; an array returned beyond that is left to the garbage
/// collector. Arrays come back holding whatever they held: a cache never shows floats past its token count. Thread-safe.
/// </para>
/// </remarks>
public sealed class KvArrayPool
{
    private readonly Dictionary<int, Stack<float[]>> _idle = []; // by class: every array in a bucket is at least that long
    private readonly Lock _lock = new();
    private long _idleBytes;
    private int _idleArrays;
    private long _rented;
    private long _reused;
    private long _returned;
    private long _dropped;

    /// <summary>Creates an empty pool keeping at most <paramref name="maxIdleBytes"/> bytes of idle arrays (0 keeps none).</summary>
    public KvArrayPool(long maxIdleBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxIdleBytes);
        MaxIdleBytes = maxIdleBytes;
    }

    /// <summary>Most bytes of idle arrays kept for reuse.</summary>
    public long MaxIdleBytes { get; }

    /// <summary>Bytes of idle arrays held now.</summary>
    public long IdleBytes
    {
        get
        {
            lock (_lock)
            {
                return _idleBytes;
            }
        }
    }

    /// <summary>Idle arrays held now.</summary>
    public int IdleArrays
    {
        get
        {
            lock (_lock)
            {
                return _idleArrays;
            }
        }
    }

    /// <summary>Arrays handed out so far (requests for length 0 not counted).</summary>
    public long Rented => Interlocked.Read(ref _rented);

    /// <summary>Of <see cref="Rented"/>, the arrays that were idle ones reused rather than allocated.</summary>
    public long Reused => Interlocked.Read(ref _reused);

    /// <summary>Arrays taken back and kept.</summary>
    public long Returned => Interlocked.Read(ref _returned);

    /// <summary>Arrays given back but left to the garbage collector because the idle arrays already filled <see cref="MaxIdleBytes"/>.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>An array of at least <paramref name="minimumLength"/> floats (at most twice that when reused), holding arbitrary values.</summary>
    public float[] Rent(int minimumLength) => Rent(minimumLength, (int)Math.Min(2L * minimumLength, Array.MaxLength));

    /// <summary>
    /// An array of at least <paramref name="minimumLength"/> floats, holding arbitrary values: an idle one no longer than
    /// <paramref name="maximumLength"/>, else a fresh one of the request's class. With <paramref name="maximumLength"/> at
    /// the request's class (<see cref="CeilingClass"/>) the length is known before the call, as a KV budget needs.
    /// </summary>
    public float[] Rent(int minimumLength, int maximumLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimumLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(maximumLength, minimumLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minimumLength, Array.MaxLength);
        if (minimumLength == 0)
        {
            return [];
        }

        Interlocked.Increment(ref _rented);
        var first = CeilingClass(minimumLength);
        lock (_lock)
        {
            for (var size = first; size <= maximumLength && size <= Array.MaxLength; size = NextClass(size))
            {
                // A bucket holds arrays at least its class long; one returned from elsewhere may be longer than allowed.
                if (_idle.TryGetValue((int)size, out var bucket) && bucket.TryPeek(out var array) && array.Length <= maximumLength)
                {
                    bucket.Pop();
                    _idleBytes -= Bytes(array);
                    _idleArrays--;
                    Interlocked.Increment(ref _reused);
                    return array;
                }
            }
        }

        // Uninitialized: a cache writes every float it shows before showing it.
        return GC.AllocateUninitializedArray<float>((int)Math.Min(first, Array.MaxLength));
    }

    /// <summary>Takes <paramref name="array"/> back for a later <see cref="Rent(int)"/>; the caller must not touch it again.</summary>
    public void Return(float[] array)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (array.Length == 0)
        {
            return;
        }

        lock (_lock)
        {
            if (_idleBytes + Bytes(array) > MaxIdleBytes)
            {
                Interlocked.Increment(ref _dropped);
                return;
            }

            var size = FloorClass(array.Length);
            if (!_idle.TryGetValue(size, out var bucket))
            {
                bucket = new Stack<float[]>();
                _idle[size] = bucket;
            }

            bucket.Push(array);
            _idleBytes += Bytes(array);
            _idleArrays++;
            Interlocked.Increment(ref _returned);
        }
    }

    /// <summary>The class a request for <paramref name="length"/> floats is allocated at: the smallest class at least that long.</summary>
    internal static long CeilingClass(int length)
    {
        Debug.Assert(length > 0);
        var shift = Shift(length);
        return (((long)(length - 1) >> shift) + 1) << shift;
    }

    // The largest class no longer than length: an array of that length may serve any request up to its class.
    private static int FloorClass(int length)
    {
        var shift = Shift(length);
        return length >> shift << shift;
    }

    private static long NextClass(long size) => size + (1L << Shift(size));

    // Eight classes per power of two: the step is an eighth of the power of two at or below the length.
    private static int Shift(long length) => Math.Max(0, BitOperations.Log2((ulong)length) - 3);

    private static long Bytes(float[] array) => (long)array.Length * sizeof(float);
}
