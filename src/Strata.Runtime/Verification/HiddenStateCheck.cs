using System.Numerics;
using System.Runtime.InteropServices;

namespace Strata.Runtime.Verification;

/// <summary>Cheap checks of hidden states received from someone else: every value finite, each token's RMS in a range.</summary>
public static class HiddenStateCheck
{
    /// <summary>Index of the first NaN or infinity in <paramref name="values"/>, or -1 when every value is finite.</summary>
    /// <remarks>
    /// Runs on every reply, every block-server input and every logits row: a vector pass tests the exponent bits (all ones
    /// for NaN and infinity) and only a block that holds one is scanned element by element.
    /// </remarks>
    public static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        var bits = MemoryMarshal.Cast<float, int>(values);
        var exponent = new Vector<int>(0x7F80_0000);
        var start = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; start <= bits.Length - Vector<int>.Count; start += Vector<int>.Count)
            {
                if (Vector.EqualsAny(new Vector<int>(bits.Slice(start, Vector<int>.Count)) & exponent, exponent))
                {
                    break;
                }
            }
        }

        for (var i = start; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Root mean square of one row, in double precision (so that values near <see cref="float.MaxValue"/> give a large finite number or infinity, never a wrapped one).</summary>
    public static double Rms(ReadOnlySpan<float> row)
    {
        if (row.IsEmpty)
        {
            return 0;
        }

        var sum = 0.0;
        foreach (var value in row)
        {
            sum += (double)value * value;
        }

        return Math.Sqrt(sum / row.Length);
    }

    /// <summary>
    /// Why <paramref name="hidden"/>, <c>(tokens, width)</c>, cannot be a true hidden state: a non-finite value, or a token whose
    /// RMS lies outside <c>[minRms, maxRms]</c>; null when it passes.
    /// </summary>
    public static string? Explain(ReadOnlySpan<float> hidden, int tokens, int width, double minRms, double maxRms)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        var bad = FirstNonFinite(hidden[..(tokens * width)]);
        if (bad >= 0)
        {
            return $"a non-finite value ({hidden[bad]}) at token {bad / width}, column {bad % width}";
        }

        for (var t = 0; t < tokens; t++)
        {
            var rms = Rms(hidden.Slice(t * width, width));
            if (!(rms >= minRms && rms <= maxRms))
            {
                return $"token {t} has RMS {rms:G4}, outside the activation envelope [{minRms:G4}, {maxRms:G4}]";
            }
        }

        return null;
    }
}
