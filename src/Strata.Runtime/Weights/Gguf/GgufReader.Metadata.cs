using System.Globalization;
using Strata.Core;

namespace Strata.Runtime.Weights.Gguf;

/// <summary>Typed access to the metadata, with one-sentence errors naming the key, its value and what was expected.</summary>
public sealed partial class GgufReader
{
    /// <summary>An integer value of any GGUF integer type, or null when <paramref name="key"/> is absent.</summary>
    /// <exception cref="StrataException">The value is not an integer.</exception>
    public long? Integer(string key) => _metadata.TryGetValue(key, out var value) ? AsInteger(key, value) : null;

    /// <summary>A number of any GGUF numeric type, or null when <paramref name="key"/> is absent.</summary>
    /// <exception cref="StrataException">The value is not a number.</exception>
    public double? Number(string key) => _metadata.TryGetValue(key, out var value)
        ? value switch
        {
            float f => f,
            double d => d,
            _ => AsInteger(key, value),
        }
        : null;

    /// <summary>A string value, or null when <paramref name="key"/> is absent.</summary>
    /// <exception cref="StrataException">The value is not a string.</exception>
    public string? Text(string key) => _metadata.TryGetValue(key, out var value)
        ? value as string ?? throw Mismatch(key, value, "a string")
        : null;

    /// <summary>An array of strings, or null when <paramref name="key"/> is absent.</summary>
    public IReadOnlyList<string>? Strings(string key) => Array(key, GgufValueType.String, "an array of strings")?.Values.Cast<string>().ToArray();

    /// <summary>An array of float32, or null when <paramref name="key"/> is absent.</summary>
    public float[]? Floats(string key) => Array(key, GgufValueType.Float32, "an array of float32")?.Values.Cast<float>().ToArray();

    /// <summary>An array of integers of any GGUF integer type, or null when <paramref name="key"/> is absent.</summary>
    public long[]? Integers(string key)
    {
        if (!_metadata.TryGetValue(key, out var value))
        {
            return null;
        }

        var array = value as GgufArray ?? throw Mismatch(key, value, "an array of integers");
        return [.. array.Values.Select(element => AsInteger(key, element))];
    }

    /// <summary>An integer that must be present and within <c>[minimum, maximum]</c>.</summary>
    /// <exception cref="StrataException">The key is absent, not an integer, or out of range.</exception>
    public int RequiredInteger(string key, int minimum, int maximum = int.MaxValue)
    {
        var value = Integer(key) ?? throw new StrataException($"GGUF file '{Path}' has no metadata '{key}'; a llama model needs it (an integer from {minimum} to {maximum}).");
        return value < minimum || value > maximum
            ? throw new StrataException($"GGUF file '{Path}': metadata '{key}' is {value}; expected an integer from {minimum} to {maximum}.")
            : (int)value;
    }

    private GgufArray? Array(string key, GgufValueType elementType, string expected)
    {
        if (!_metadata.TryGetValue(key, out var value))
        {
            return null;
        }

        return value is GgufArray array && array.ElementType == elementType ? array : throw Mismatch(key, value, expected);
    }

    private long AsInteger(string key, object value) => value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        _ => throw Mismatch(key, value, "an integer"),
    };

    private StrataException Mismatch(string key, object value, string expected)
    {
        var shown = value switch
        {
            GgufArray array => $"an array of {array.Values.Count} {array.ElementType}",
            string text => $"the string \"{(text.Length > 40 ? text[..40] + "..." : text)}\"",
            IFormattable number => $"{number.ToString(null, CultureInfo.InvariantCulture)} ({value.GetType().Name})",
            _ => value.ToString() ?? "null",
        };
        return new StrataException($"GGUF file '{Path}': metadata '{key}' is {shown}; expected {expected}.");
    }
}
