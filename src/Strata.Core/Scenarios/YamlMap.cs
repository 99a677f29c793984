using YamlDotNet.RepresentationModel;

namespace Strata.Core.Scenarios;

/// <summary>One YAML mapping of a scenario file, its field path, and typed accessors that fail with file:line messages.</summary>
/// <remarks>Construction rejects keys outside the allowed set, suggesting the closest allowed one.</remarks>
internal sealed class YamlMap
{
    private readonly ScenarioReader _reader;
    private readonly Dictionary<string, YamlNode> _values = new(StringComparer.Ordinal);

    private readonly Dictionary<string, YamlNode> _keys = new(StringComparer.Ordinal);
    private YamlNode _anchor;

    private YamlMap(ScenarioReader reader, YamlMappingNode node, string path)
    {
        _reader = reader;
        Node = node;
        Path = path;
        _anchor = node;
    }

    /// <summary>The mapping node.</summary>
    public YamlMappingNode Node { get; }

    /// <summary>Field path of the mapping (<c>machines[1]</c>); empty for the top level.</summary>
    public string Path { get; }

    /// <summary>Where errors about the mapping as a whole point: its key in the parent when known, else its first line.</summary>
    public YamlNode Anchor => _anchor;

    /// <summary>How the mapping is named in messages.</summary>
    public string Where => Path.Length == 0 ? "the top level" : Path;

    /// <summary>Reads <paramref name="node"/> as a mapping whose keys are all in <paramref name="allowed"/>.</summary>
    public static YamlMap Of(ScenarioReader reader, YamlNode node, string path, IReadOnlyCollection<string> allowed)
    {
        if (node is not YamlMappingNode mapping)
        {
            throw reader.Invalid(node, path.Length == 0 ? "the top level" : path, $"a mapping with keys such as {string.Join(", ", allowed.Take(4))}");
        }

        var map = new YamlMap(reader, mapping, path);
        foreach (var (keyNode, value) in mapping.Children)
        {
            var key = YamlValues.Text(keyNode);
            if (key is null || keyNode is not YamlScalarNode)
            {
                throw reader.Error(keyNode, $"a key in {map.Where} is {YamlValues.Describe(keyNode)}; expected a name such as '{allowed.First()}'.");
            }

            if (!allowed.Contains(key))
            {
                throw reader.Error(keyNode, $"unknown key '{key}' in {map.Where}{NameSuggester.Hint(key, allowed)}");
            }

            map._keys[key] = keyNode;
            if (!YamlValues.IsNull(value))
            {
                map._values[key] = value;
            }
        }

        return map;
    }

    /// <summary>The value of <paramref name="key"/> as a nested mapping, or <see langword="null"/> when absent.</summary>
    /// <remarks>Missing keys of the nested mapping are reported at the line of <paramref name="key"/>, where a reader looks.</remarks>
    public YamlMap? Map(string key, IReadOnlyCollection<string> allowed)
    {
        if (Get(key) is not { } node)
        {
            return null;
        }

        var map = Of(_reader, node, Field(key), allowed);
        map._anchor = _keys[key];
        return map;
    }

    /// <summary>The field path of a key of this mapping (<c>machines[1].count</c>).</summary>
    public string Field(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    /// <summary>Whether the key is present with a non-null value.</summary>
    public bool Has(string key) => _values.ContainsKey(key);

    /// <summary>The value of a key, or <see langword="null"/> when absent or null.</summary>
    public YamlNode? Get(string key) => _values.GetValueOrDefault(key);

    /// <summary>The value of a required key.</summary>
    public YamlNode Require(string key, string expected) =>
        Get(key) ?? throw _reader.Error(Anchor, $"{Where} has no '{key}'; expected {expected}.");

    /// <summary>A non-empty string value, or <see langword="null"/> when absent.</summary>
    public string? String(string key, string expected = "a non-empty string")
    {
        if (Get(key) is not { } node)
        {
            return null;
        }

        return YamlValues.Text(node) is { } text && !string.IsNullOrWhiteSpace(text)
            ? text.Trim()
            : throw _reader.Invalid(node, Field(key), expected);
    }

    /// <summary>A required non-empty string value.</summary>
    public string RequiredString(string key, string expected = "a non-empty string")
    {
        Require(key, expected);
        return String(key, expected)!;
    }

    /// <summary>A finite number accepted by <paramref name="accept"/>, or <see langword="null"/> when absent.</summary>
    public double? Number(string key, Func<double, bool> accept, string expected)
    {
        if (Get(key) is not { } node)
        {
            return null;
        }

        return YamlValues.TryNumber(node, out var value) && accept(value) ? value : throw _reader.Invalid(node, Field(key), expected);
    }

    /// <summary>A whole number &gt;= <paramref name="min"/>, or <see langword="null"/> when absent.</summary>
    public int? Integer(string key, int min)
    {
        if (Get(key) is not { } node)
        {
            return null;
        }

        return YamlValues.TryInteger(node, min, out var value) ? value : throw _reader.Invalid(node, Field(key), $"an integer >= {min}");
    }

    /// <summary>One of a fixed set of names (case-insensitive), or <see langword="null"/> when absent.</summary>
    public T? Choice<T>(string key, IReadOnlyDictionary<string, T> choices)
        where T : struct
    {
        if (Get(key) is not { } node)
        {
            return null;
        }

        var text = YamlValues.Text(node)?.Trim();
        foreach (var (name, value) in choices)
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        var hint = text is not null && NameSuggester.Closest(text, choices.Keys) is { } closest ? $" (did you mean '{closest}'?)" : string.Empty;
        throw _reader.Invalid(node, Field(key), $"one of {string.Join(", ", choices.Keys)}{hint}");
    }

    /// <summary>The items of a list value with their field paths (<c>machines[0]</c>, ...); empty when absent.</summary>
    public IReadOnlyList<(YamlNode Node, string Path)> Items(string key, string expected = "a list")
    {
        if (Get(key) is not { } node)
        {
            return [];
        }

        if (node is not YamlSequenceNode sequence)
        {
            throw _reader.Invalid(node, Field(key), expected);
        }

        return sequence.Children.Select((item, index) => (item, $"{Field(key)}[{index}]")).ToArray();
    }

    /// <summary>Fails when any of <paramref name="keys"/> is present, saying why it does not belong.</summary>
    public void Forbid(IEnumerable<string> keys, string reason)
    {
        foreach (var key in keys)
        {
            if (Get(key) is { } node)
            {
                throw _reader.Error(node, $"{Field(key)} is {YamlValues.Describe(node)}, but {reason}.");
            }
        }
    }
}
