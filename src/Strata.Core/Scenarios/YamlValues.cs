using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Strata.Core.Scenarios;

/// <summary>Reads typed values out of YAML nodes and describes nodes for error messages.</summary>
internal static class YamlValues
{
    private const int MaxShownLength = 60;

    /// <summary>Whether the node is YAML null: an empty plain scalar, <c>~</c> or <c>null</c>.</summary>
    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar
        && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";

    /// <summary>The text of a non-null scalar, or <see langword="null"/> for anything else.</summary>
    public static string? Text(YamlNode node) => node is YamlScalarNode scalar && !IsNull(node) ? scalar.Value : null;

    /// <summary>Parses a scalar as a finite number (invariant culture, exponents allowed).</summary>
    public static bool TryNumber(YamlNode node, out double value)
    {
        value = 0;
        return Text(node) is { } text
            && double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value)
            && double.IsFinite(value);
    }

    /// <summary>Parses a scalar as a whole number in [<paramref name="min"/>, int.MaxValue].</summary>
    public static bool TryInteger(YamlNode node, int min, out int value)
    {
        value = 0;
        if (!TryNumber(node, out var number) || number != Math.Floor(number) || number < min || number > int.MaxValue)
        {
            return false;
        }

        value = (int)number;
        return true;
    }

    /// <summary>How a value reads in an error message: numbers as written, text quoted, collections by kind.</summary>
    public static string Describe(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode:
                return "a mapping";
            case YamlSequenceNode:
                return "a list";
            case YamlScalarNode when IsNull(node):
                return "empty";
            case YamlScalarNode scalar:
                var text = scalar.Value ?? string.Empty;
                if (text.Length > MaxShownLength)
                {
                    text = string.Concat(text.AsSpan(0, MaxShownLength), "...");
                }

                return scalar.Style is ScalarStyle.Plain or ScalarStyle.Any && TryNumber(node, out _) ? text : $"'{text}'";
            default:
                return "an alias";
        }
    }
}
