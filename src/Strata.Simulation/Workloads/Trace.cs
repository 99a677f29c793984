using System.Globalization;
using Strata.Core;

namespace Strata.Simulation.Workloads;

/// <summary>A recorded request trace in the Azure LLM inference format: <c>TIMESTAMP,ContextTokens,GeneratedTokens</c>.</summary>
/// <remarks>
/// The two Azure 2023 traces (<c>code</c>: 8,819 requests, <c>conv</c>: 19,366, about an hour each; CC-BY, see
/// data/README.md) are embedded. A user CSV needs the same three columns (by header name); timestamps are
/// <c>yyyy-MM-dd HH:mm:ss[.fffffff]</c> or seconds as a number.
/// </remarks>
public sealed class Trace
{
    private static readonly Dictionary<string, Lazy<Trace>> BuiltIns = new(StringComparer.OrdinalIgnoreCase)
    {
        ["code"] = new(() => FromResource("code")),
        ["conv"] = new(() => FromResource("conv")),
    };

    private Trace(string name, TraceRow[] rows)
    {
        Name = name;
        Rows = rows;
    }

    /// <summary>The trace's name (<c>code</c>, <c>conv</c> or the file path).</summary>
    public string Name { get; }

    /// <summary>Requests in arrival order, the first at time 0.</summary>
    public IReadOnlyList<TraceRow> Rows { get; }

    /// <summary>Mean arrival rate over the trace.</summary>
    public double RateRequestsPerSecond => Rows.Count > 1 ? (Rows.Count - 1) / Rows[^1].ArrivalSeconds : 0;

    /// <summary>The names of the built-in traces.</summary>
    public static IEnumerable<string> BuiltInNames => BuiltIns.Keys;

    /// <summary>A built-in trace by name (<c>code</c>, <c>conv</c>), or a CSV file by path.</summary>
    /// <exception cref="StrataException">Unknown name, missing file or malformed row.</exception>
    public static Trace Load(string nameOrPath)
    {
        ArgumentNullException.ThrowIfNull(nameOrPath);
        if (BuiltIns.TryGetValue(nameOrPath, out var builtIn))
        {
            return builtIn.Value;
        }

        if (!File.Exists(nameOrPath))
        {
            throw new StrataException($"Trace '{nameOrPath}' is neither a built-in trace ({string.Join(", ", BuiltIns.Keys)}) nor an existing CSV file.");
        }

        return Parse(File.ReadAllText(nameOrPath), nameOrPath);
    }

    /// <summary>Parses trace CSV text.</summary>
    public static Trace Parse(string text, string origin)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n');
        var header = lines[0].TrimEnd('\r').Trim('\uFEFF').Split(',').Select(c => c.Trim()).ToArray();
        var timeColumn = Column(header, "TIMESTAMP", origin);
        var promptColumn = Column(header, "ContextTokens", origin);
        var outputColumn = Column(header, "GeneratedTokens", origin);
        var rows = new List<TraceRow>(lines.Length);
        double? first = null;
        var previous = double.NegativeInfinity;
        for (var i = 1; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            var cells = line.Split(',');
            var number = i + 1;
            if (cells.Length < header.Length)
            {
                throw new StrataException($"{origin}: line {number} has {cells.Length} fields; expected {header.Length} (TIMESTAMP,ContextTokens,GeneratedTokens).");
            }

            var seconds = Timestamp(cells[timeColumn].Trim(), origin, number);
            first ??= seconds;
            if (seconds < previous)
            {
                throw new StrataException($"{origin}: line {number} TIMESTAMP '{cells[timeColumn].Trim()}' is earlier than the line before; expected rows in arrival order.");
            }

            previous = seconds;
            rows.Add(new TraceRow(seconds - first.Value, Tokens(cells[promptColumn], "ContextTokens", origin, number), Tokens(cells[outputColumn], "GeneratedTokens", origin, number)));
        }

        if (rows.Count == 0)
        {
            throw new StrataException($"{origin}: no requests after the header.");
        }

        return new Trace(origin, rows.ToArray());
    }

    private static Trace FromResource(string name)
    {
        using var stream = typeof(Trace).Assembly.GetManifestResourceStream($"Strata.Simulation.Traces.{name}.csv")
            ?? throw new InvalidOperationException($"The embedded trace '{name}' is missing from Strata.Simulation.");
        using var reader = new StreamReader(stream);
        var trace = Parse(reader.ReadToEnd(), name);
        return new Trace(name, (TraceRow[])trace.Rows);
    }

    private static int Column(string[] header, string name, string origin)
    {
        var index = Array.FindIndex(header, c => c.Equals(name, StringComparison.OrdinalIgnoreCase));
        return index >= 0 ? index : throw new StrataException($"{origin}: line 1 has no '{name}' column; expected TIMESTAMP,ContextTokens,GeneratedTokens.");
    }

    private static double Timestamp(string text, string origin, int line)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds))
        {
            return seconds;
        }

        if (DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time.Ticks / (double)TimeSpan.TicksPerSecond;
        }

        throw new StrataException($"{origin}: line {line} column 'TIMESTAMP' is '{text}'; expected a date-time such as 2023-11-16 18:15:46.68 or a number of seconds.");
    }

    private static int Tokens(string text, string column, string origin, int line) =>
        int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var tokens) && tokens >= 1
            ? tokens
            : throw new StrataException($"{origin}: line {line} column '{column}' is '{text.Trim()}'; expected a positive integer.");
}
