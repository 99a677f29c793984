using System.Numerics.Tensors;

namespace Strata.Runtime.Sampling;

/// <summary>Chooses tokens from logits: greedy, or temperature plus top-p from a seeded stream.</summary>
/// <remarks>Ties break towards the lower token id, so the choice is a function of the logits and the seed alone.</remarks>
public sealed class TokenSampler
{
    private readonly SamplingOptions _options;
    private readonly DeterministicRandom _random;
    private int[] _order = [];
    private float[] _probabilities = [];

    /// <summary>Creates a sampler; each call to <see cref="Sample"/> draws the next number of the seeded stream.</summary>
    public TokenSampler(SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Validate();
        _random = new DeterministicRandom(DeterministicRandom.DeriveSeed(options.Seed, "sampling"));
    }

    /// <summary>The most likely token (the lowest id among equals).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty)
        {
            throw new ArgumentException("Cannot choose a token from empty logits.", nameof(logits));
        }

        CheckFinite(logits);
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }

    // Logits with NaN or infinity come from a broken or lying chain: no token may be chosen from them (ArgMax of all-NaN
    // would be token 0, and the nucleus loop would fall through to the last token).
    private static void CheckFinite(ReadOnlySpan<float> logits)
    {
        var bad = Verification.HiddenStateCheck.FirstNonFinite(logits);
        if (bad >= 0)
        {
            throw new ArgumentException($"The logits hold a non-finite value ({logits[bad]}) at token id {bad}; the hidden states that produced them are corrupt, so no token is chosen.", nameof(logits));
        }
    }

    /// <summary>Chooses the next token from <paramref name="logits"/>, <c>(vocab)</c>.</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        if (_options.IsGreedy)
        {
            return ArgMax(logits);
        }

        var n = logits.Length;
        if (n == 0)
        {
            throw new ArgumentException("Cannot choose a token from empty logits.", nameof(logits));
        }

        CheckFinite(logits);
        if (_probabilities.Length != n)
        {
            _probabilities = new float[n];
            _order = new int[n];
        }

        var p = _probabilities.AsSpan();
        TensorPrimitives.Multiply(logits, (float)(1.0 / _options.Temperature), p);
        TensorPrimitives.SoftMax(p, p);
        for (var i = 0; i < n; i++)
        {
            _order[i] = i;
        }

        var probabilities = _probabilities;
        Array.Sort(_order, (a, b) => probabilities[a] != probabilities[b] ? probabilities[b].CompareTo(probabilities[a]) : a.CompareTo(b));

        // The nucleus: the shortest prefix of the sorted tokens whose mass reaches top-p.
        var mass = 0.0;
        var kept = 0;
        while (kept < n)
        {
            mass += probabilities[_order[kept]];
            kept++;
            if (mass >= _options.TopP)
            {
                break;
            }
        }

        var target = _random.NextDouble() * mass;
        var cumulative = 0.0;
        for (var i = 0; i < kept; i++)
        {
            cumulative += probabilities[_order[i]];
            if (target < cumulative)
            {
                return _order[i];
            }
        }

        return _order[kept - 1];
    }
}
