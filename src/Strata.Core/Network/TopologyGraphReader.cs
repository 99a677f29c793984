using System.Globalization;

namespace Strata.Core.Network;

/// <summary>Reads network graphs in the Internet Topology Zoo text format of the geo-placement simulator.</summary>
/// <remarks>
/// <code>
/// NODES n
/// label x y
/// 0_Name lon lat        (n rows)
/// EDGES m
/// label src dest weight bw delay
/// edge_0 0 2 1 1000000 1457   (m rows; directed; bw in kbit/s, delay in microseconds)
/// </code>
/// Blank lines are ignored. Every problem is a <see cref="StrataException"/> naming the file and line.
/// </remarks>
public static class TopologyGraphReader
{
    /// <summary>Reads the graph file at <paramref name="path"/>.</summary>
    /// <exception cref="StrataException">The file is missing or malformed.</exception>
    public static TopologyGraph Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new StrataException($"Topology file '{path}' does not exist; expected a .graph file (Internet Topology Zoo format) or one of {string.Join(", ", BuiltInTopologies.Names)}.");
        }

        return Parse(File.ReadAllText(path), path, Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Parses graph text; <paramref name="origin"/> names the source in messages.</summary>
    /// <exception cref="StrataException">The text is malformed.</exception>
    public static TopologyGraph Parse(string text, string origin, string name)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n').Select((line, index) => (Text: line.Trim(), Number: index + 1)).Where(l => l.Text.Length > 0).ToArray();
        var cursor = 0;
        var nodeCount = Header(lines, ref cursor, "NODES", origin);
        Skip(lines, ref cursor, "label", origin);
        var names = new string[nodeCount];
        for (var i = 0; i < nodeCount; i++)
        {
            var (fields, number) = Row(lines, ref cursor, 3, origin, "a node row 'index_name lon lat'");
            var underscore = fields[0].IndexOf('_', StringComparison.Ordinal);
            var indexText = underscore < 0 ? fields[0] : fields[0][..underscore];
            if (!int.TryParse(indexText, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index != i)
            {
                throw new StrataException($"{origin}, line {number}: node label '{fields[0]}' should start with its index {i} (as '{i}_Name').");
            }

            names[i] = underscore < 0 ? fields[0] : fields[0][(underscore + 1)..];
        }

        var edgeCount = Header(lines, ref cursor, "EDGES", origin);
        Skip(lines, ref cursor, "label", origin);
        var edges = new TopologyEdge[edgeCount];
        for (var e = 0; e < edgeCount; e++)
        {
            var (fields, number) = Row(lines, ref cursor, 6, origin, "an edge row 'label src dest weight bw delay'");
            var source = Int(fields[1], "src", nodeCount, origin, number);
            var target = Int(fields[2], "dest", nodeCount, origin, number);
            var bandwidthKbps = Number(fields[4], "bw", origin, number, positive: true);
            var delayMicroseconds = Number(fields[5], "delay", origin, number, positive: false);
            edges[e] = new TopologyEdge(source, target, delayMicroseconds * 1e-6, bandwidthKbps * 1000 / 8);
        }

        if (cursor < lines.Length)
        {
            throw new StrataException($"{origin}, line {lines[cursor].Number}: unexpected text '{Clip(lines[cursor].Text)}' after the {edgeCount} edges the EDGES line announced.");
        }

        return new TopologyGraph(name, names, edges);
    }

    private static int Header((string Text, int Number)[] lines, ref int cursor, string keyword, string origin)
    {
        if (cursor >= lines.Length)
        {
            throw new StrataException($"{origin}: the file ends before the '{keyword} n' line; expected a NODES section then an EDGES section.");
        }

        var (text, number) = lines[cursor++];
        var fields = text.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 2 || fields[0] != keyword || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1)
        {
            throw new StrataException($"{origin}, line {number}: '{Clip(text)}' is not a '{keyword} n' line; expected '{keyword}' and a positive count.");
        }

        return count;
    }

    private static void Skip((string Text, int Number)[] lines, ref int cursor, string prefix, string origin)
    {
        if (cursor < lines.Length && lines[cursor].Text.StartsWith(prefix, StringComparison.Ordinal))
        {
            cursor++;
            return;
        }

        var where = cursor < lines.Length ? $"line {lines[cursor].Number}" : "the end of the file";
        throw new StrataException($"{origin}, {where}: expected the column header line starting with '{prefix}'.");
    }

    private static (string[] Fields, int Number) Row((string Text, int Number)[] lines, ref int cursor, int fieldCount, string origin, string expected)
    {
        if (cursor >= lines.Length)
        {
            throw new StrataException($"{origin}: the file ends early; expected {expected}.");
        }

        var (text, number) = lines[cursor++];
        var fields = text.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != fieldCount)
        {
            throw new StrataException($"{origin}, line {number}: '{Clip(text)}' has {fields.Length} fields; expected {expected} ({fieldCount} fields).");
        }

        return (fields, number);
    }

    private static int Int(string text, string field, int nodeCount, string origin, int number)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value >= nodeCount)
        {
            throw new StrataException($"{origin}, line {number}: {field} is '{text}'; expected a node index from 0 to {nodeCount - 1}.");
        }

        return value;
    }

    private static double Number(string text, string field, string origin, int number, bool positive)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value < 0 || (positive && value == 0))
        {
            throw new StrataException($"{origin}, line {number}: {field} is '{text}'; expected a finite number {(positive ? "> 0" : ">= 0")}.");
        }

        return value;
    }

    private static string Clip(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
