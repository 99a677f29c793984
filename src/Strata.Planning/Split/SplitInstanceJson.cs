using System.Globalization;
using System.Text.Json;
using Strata.Core;

namespace Strata.Planning.Split;

/// <summary>Reads a split instance from JSON (the format of <c>strata split --instance FILE.json</c>, see docs/split.md).</summary>
/// <remarks>
/// <code>
/// { "slaSeconds": 2.0, "finalDownloadSeconds": 0.01, "clientMemoryBytes": 4e9,
///   "layers": [ { "clientSeconds": 0.3, "serverSeconds": 0.02, "uploadSeconds": 0.05, "downloadSeconds": 0.05,
///                 "serverLoad": 1.2e12, "clientMemoryBytes": 4e8 }, ... ] }
/// </code>
/// Every error is one sentence naming the file, the JSON path (<c>layers[3].uploadSeconds</c>), the value and what
/// was expected. Comments and trailing commas are accepted.
/// </remarks>
public static class SplitInstanceJson
{
    private static readonly string[] TopFields = ["slaSeconds", "finalDownloadSeconds", "clientMemoryBytes", "layers"];
    private static readonly string[] LayerFields = ["clientSeconds", "serverSeconds", "uploadSeconds", "downloadSeconds", "serverLoad", "clientMemoryBytes"];

    private static readonly JsonDocumentOptions Options = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Reads the instance in the file at <paramref name="path"/>.</summary>
    /// <exception cref="StrataException">The file is missing, unreadable or not a valid instance.</exception>
    public static SplitInstance Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new StrataException($"Split instance file '{path}' does not exist.");
        }

        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new StrataException($"Split instance file '{path}' could not be read: {exception.Message.TrimEnd('.')}.", exception);
        }

        return Parse(json, path);
    }

    /// <summary>Parses an instance from <paramref name="json"/>; <paramref name="origin"/> (a file name) starts every error message.</summary>
    /// <exception cref="StrataException">The text is not valid JSON or not a valid instance.</exception>
    public static SplitInstance Parse(string json, string origin)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(origin);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, Options);
        }
        catch (JsonException exception)
        {
            var line = (exception.LineNumber ?? 0) + 1;
            var column = (exception.BytePositionInLine ?? 0) + 1;
            throw new StrataException($"{origin}: not valid JSON at line {line}, position {column}; fix the syntax there (quoted field names, commas between entries, numbers without units).", exception);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new StrataException($"{origin}: the top level is {Describe(root)}; expected an object with 'slaSeconds', 'finalDownloadSeconds' and 'layers'.");
            }

            CheckFields(root, origin, "", TopFields);
            var slaSeconds = Number(root, origin, "", "slaSeconds", "a finite number of seconds > 0", positive: true);
            var finalDownloadSeconds = Number(root, origin, "", "finalDownloadSeconds", "a finite number of seconds >= 0");
            var budgetBytes = OptionalNumber(root, origin, "", "clientMemoryBytes", "a finite number of bytes >= 0");
            if (!root.TryGetProperty("layers", out var layersElement))
            {
                throw new StrataException($"{origin}: layers is missing; expected an array of layer objects.");
            }

            if (layersElement.ValueKind != JsonValueKind.Array)
            {
                throw new StrataException($"{origin}: layers is {Describe(layersElement)}; expected an array of layer objects.");
            }

            if (layersElement.GetArrayLength() == 0)
            {
                throw new StrataException($"{origin}: layers is empty; expected at least one layer.");
            }

            var layers = new List<SplitLayer>(layersElement.GetArrayLength());
            var index = 0;
            foreach (var entry in layersElement.EnumerateArray())
            {
                var path = $"layers[{index}]";
                if (entry.ValueKind != JsonValueKind.Object)
                {
                    throw new StrataException($"{origin}: {path} is {Describe(entry)}; expected an object with 'clientSeconds', 'serverSeconds', 'uploadSeconds', 'downloadSeconds' and 'serverLoad'.");
                }

                CheckFields(entry, origin, path + ".", LayerFields);
                layers.Add(new SplitLayer(
                    Number(entry, origin, path + ".", "clientSeconds", "a finite number of seconds >= 0"),
                    Number(entry, origin, path + ".", "serverSeconds", "a finite number of seconds >= 0"),
                    Number(entry, origin, path + ".", "uploadSeconds", "a finite number of seconds >= 0"),
                    Number(entry, origin, path + ".", "downloadSeconds", "a finite number of seconds >= 0"),
                    Number(entry, origin, path + ".", "serverLoad", "a finite number >= 0"),
                    OptionalNumber(entry, origin, path + ".", "clientMemoryBytes", "a finite number of bytes >= 0") ?? 0));
                index++;
            }

            return new SplitInstance(layers, slaSeconds, finalDownloadSeconds, budgetBytes);
        }
    }

    /// <summary>Rejects unknown and repeated fields of <paramref name="element"/>.</summary>
    private static void CheckFields(JsonElement element, string origin, string prefix, string[] known)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (Array.IndexOf(known, property.Name) < 0)
            {
                throw new StrataException($"{origin}: {prefix}{property.Name} is not a known field{SplitNameHint.For(property.Name, known)}");
            }

            if (!seen.Add(property.Name))
            {
                throw new StrataException($"{origin}: {prefix}{property.Name} appears more than once; keep one.");
            }
        }
    }

    private static double Number(JsonElement element, string origin, string prefix, string name, string expected, bool positive = false) =>
        OptionalNumber(element, origin, prefix, name, expected, positive)
        ?? throw new StrataException($"{origin}: {prefix}{name} is missing; expected {expected}.");

    private static double? OptionalNumber(JsonElement element, string origin, string prefix, string name, string expected, bool positive = false)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            throw new StrataException($"{origin}: {prefix}{name} is {Describe(value)}; expected {expected}.");
        }

        if (!value.TryGetDouble(out var number) || !double.IsFinite(number))
        {
            throw new StrataException($"{origin}: {prefix}{name} is {value.GetRawText()}, which is not a finite number; expected {expected}.");
        }

        if (number < 0 || (positive && number == 0))
        {
            throw new StrataException($"{origin}: {prefix}{name} is {number.ToString("R", CultureInfo.InvariantCulture)}; expected {expected}.");
        }

        return number;
    }

    /// <summary>A value as an error message shows it: its text and its kind (<c>"fast" (a string)</c>).</summary>
    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"{Shorten(value.GetRawText())} (a string)",
        JsonValueKind.True or JsonValueKind.False => $"{value.GetRawText()} (a boolean)",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => value.GetRawText(),
    };

    private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 37), "...");
}
