using System.Runtime.CompilerServices;

namespace Strata.Runtime.Kernels;

/// <summary>Rotary position embeddings the Hugging Face Llama way (<c>rotate_half</c>): channel <c>i</c> pairs with <c>i + d/2</c>.</summary>
/// <remarks>
/// For head width <c>d</c> and position <c>p</c>, pair <c>i</c> turns by <c>p * theta^(-2i/d)</c>:
/// <c>x'[i] = x[i] cos - x[i+d/2] sin</c>, <c>x'[i+d/2] = x[i+d/2] cos + x[i] sin</c>. Angles are computed
/// in double and rounded once, so a position's rotation does not depend on how tokens were batched.
/// </remarks>
public sealed class RotaryEmbedding
{
    private readonly double[] _inverseFrequencies;

    /// <summary>Creates the rotation for heads of width <paramref name="headDimension"/> with base <paramref name="theta"/> (<c>rope_theta</c>).</summary>
    /// <param name="headDimension">Width of one head (even).</param>
    /// <param name="theta">Base of the frequencies.</param>
    /// <param name="scaleInverseFrequency">Maps each inverse frequency to its scaled value (rope scaling); null for none.</param>
    public RotaryEmbedding(int headDimension, double theta, Func<double, double>? scaleInverseFrequency = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(headDimension, 2);
        if (headDimension % 2 != 0)
        {
            throw new ArgumentException($"Head width {headDimension} is odd; rotary embeddings need an even width.", nameof(headDimension));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(theta, 1.0);
        HeadDimension = headDimension;
        _inverseFrequencies = new double[headDimension / 2];
        for (var i = 0; i < _inverseFrequencies.Length; i++)
        {
            var inverseFrequency = 1.0 / Math.Pow(theta, 2.0 * i / headDimension);
            _inverseFrequencies[i] = scaleInverseFrequency is null ? inverseFrequency : scaleInverseFrequency(inverseFrequency);
        }
    }

    /// <summary>Width of one head.</summary>
    public int HeadDimension { get; }

    /// <summary>The per-pair inverse frequencies, <c>theta^(-2i/d)</c>.</summary>
    public ReadOnlySpan<double> InverseFrequencies => _inverseFrequencies;

    /// <summary>Rotates every head of every row in place; row <c>t</c> sits at position <c>firstPosition + t</c>.</summary>
    /// <param name="rows">Vectors, <c>(tokens, heads, headDim)</c>.</param>
    /// <param name="tokens">Number of rows (tokens).</param>
    /// <param name="heads">Heads per row.</param>
    /// <param name="firstPosition">Absolute position of the first row.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(Span<float> rows, int tokens, int heads, int firstPosition)
    {
        var d = HeadDimension;
        var half = d / 2;
        ThrowHelper.CheckLength(rows.Length, tokens * heads * d, nameof(rows));
        ArgumentOutOfRangeException.ThrowIfNegative(firstPosition);
        Span<float> cos = half <= 512 ? stackalloc float[half] : new float[half];
        Span<float> sin = half <= 512 ? stackalloc float[half] : new float[half];
        for (var t = 0; t < tokens; t++)
        {
            var position = (double)(firstPosition + t);
            for (var i = 0; i < half; i++)
            {
                var angle = position * _inverseFrequencies[i];
                cos[i] = (float)Math.Cos(angle);
                sin[i] = (float)Math.Sin(angle);
            }

            for (var h = 0; h < heads; h++)
            {
                var x = rows.Slice((t * heads + h) * d, d);
                for (var i = 0; i < half; i++)
                {
                    var a = x[i];
                    var b = x[i + half];
                    x[i] = a * cos[i] - b * sin[i];
                    x[i + half] = b * cos[i] + a * sin[i];
                }
            }
        }
    }
}
