using System.Globalization;
using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Strata.Core.Scenarios;

/// <summary>Converts a YAML node to the equivalent JSON, so JSON readers (catalog, config.json) can read inline YAML.</summary>
/// <remarks>Plain scalars are typed by the YAML 1.2 core schema (null, booleans, numbers); quoted scalars stay strings.</remarks>
internal static class YamlJson
{
    /// <summary>The node as a detached <see cref="JsonElement"/>.</summary>
    public static JsonElement ToJson(YamlNode node)
    {
        using var document = JsonDocument.Parse(ToUtf8(node));
        return document.RootElement.Clone();
    }

    /// <summary>The node as JSON text.</summary>
    public static string ToJsonText(YamlNode node) => System.Text.Encoding.UTF8.GetString(ToUtf8(node));

    private static byte[] ToUtf8(YamlNode node)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, node);
        }

        return buffer.ToArray();
    }

    private static void Write(Utf8JsonWriter writer, YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                writer.WriteStartObject();
                foreach (var (key, value) in mapping.Children)
                {
                    writer.WritePropertyName(((YamlScalarNode)key).Value ?? string.Empty);
                    Write(writer, value);
                }

                writer.WriteEndObject();
                break;
            case YamlSequenceNode sequence:
                writer.WriteStartArray();
                foreach (var item in sequence.Children)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            case YamlScalarNode scalar:
                WriteScalar(writer, scalar);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    private static void WriteScalar(Utf8JsonWriter writer, YamlScalarNode scalar)
    {
        var text = scalar.Value ?? string.Empty;
        if (scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any))
        {
            writer.WriteStringValue(text);
        }
        else if (YamlValues.IsNull(scalar))
        {
            writer.WriteNullValue();
        }
        else if (text is "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
        {
            writer.WriteBooleanValue(text[0] is 't' or 'T');
        }
        else if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer))
        {
            writer.WriteNumberValue(integer);
        }
        else if (YamlValues.TryNumber(scalar, out var number))
        {
            writer.WriteNumberValue(number);
        }
        else
        {
            writer.WriteStringValue(text);
        }
    }
}
