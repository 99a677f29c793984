namespace Strata.Runtime.Sampling;

/// <summary>SplitMix64: a small, fast generator whose stream depends only on its seed, on every platform and runtime version.</summary>
/// <remarks><see cref="Random"/> with a seed is stable today but documented as an implementation detail; this one is ours.</remarks>
public sealed class DeterministicRandom
{
    private ulong _state;

    /// <summary>Creates a generator from <paramref name="seed"/>.</summary>
    public DeterministicRandom(ulong seed) => _state = seed;

    /// <summary>Derives a seed for a named stream (a tensor, a request) from a root seed, with a stable FNV-1a hash of the name.</summary>
    public static ulong DeriveSeed(ulong seed, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var hash = 14695981039346656037UL;
        foreach (var c in name)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return Mix(seed ^ hash);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>A uniform double in <c>[0, 1)</c> with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform float in <c>[-bound, bound)</c>.</summary>
    public float NextSymmetric(float bound) => (float)((NextDouble() * 2.0 - 1.0) * bound);

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
