using Strata.Core;

namespace Strata.Performance.Profiles;

/// <summary>Measured NCCL all-reduce and send/recv times (Vidur's network profiles, condensed).</summary>
/// <remarks>
/// Columns: <c>cluster, collective, num_workers, devices_per_node, size_bytes, median_ms</c>. The built-in table is
/// data/vidur-profiles/collectives.csv (MIT, Microsoft Vidur). Times between measured sizes are interpolated
/// log-log; below the smallest size the smallest size's time holds (latency floor); above the largest, time grows
/// in proportion to size (bandwidth-bound).
/// </remarks>
public sealed class CollectiveProfileTable
{
    private static readonly string[] Columns = ["cluster", "collective", "num_workers", "devices_per_node", "size_bytes", "median_ms"];

    private static readonly Lazy<CollectiveProfileTable> BuiltInTable = new(() =>
        Parse(OperatorProfileTable.EmbeddedText("Strata.Performance.Profiles.vidur_collectives.csv"), "built-in vidur-profiles/collectives.csv"));

    private readonly Dictionary<(string Cluster, string Collective, int Workers, int PerNode), (double[] LogSizes, double[] LogSeconds)> _curves;

    private CollectiveProfileTable(IReadOnlyList<CollectiveProfileRow> rows, string origin)
    {
        Rows = rows;
        Origin = origin;
        _curves = rows.GroupBy(row => (row.Cluster, row.Collective, row.Workers, row.DevicesPerNode))
            .ToDictionary(
                group => group.Key,
                group =>
                {
                    var sorted = group.GroupBy(row => row.SizeBytes).OrderBy(g => g.Key).Select(g => (g.Key, g.Min(row => row.Seconds))).ToArray();
                    return (sorted.Select(p => Math.Log(p.Key)).ToArray(), sorted.Select(p => Math.Log(p.Item2)).ToArray());
                });
    }

    /// <summary>The NCCL profiles shipped with Strata.</summary>
    public static CollectiveProfileTable BuiltIn => BuiltInTable.Value;

    /// <summary>Every row, in file order.</summary>
    public IReadOnlyList<CollectiveProfileRow> Rows { get; }

    /// <summary>Where the rows come from.</summary>
    public string Origin { get; }

    /// <summary>Whether an all-reduce of <paramref name="workers"/> GPUs within one node of <paramref name="cluster"/> was measured.</summary>
    public bool HasAllReduce(string cluster, int workers) => _curves.ContainsKey((cluster, "all_reduce", workers, workers));

    /// <summary>Time of an all-reduce of <paramref name="bytes"/> over <paramref name="workers"/> GPUs of one node, or null if not measured.</summary>
    public double? AllReduceSeconds(string cluster, int workers, double bytes)
    {
        if (!_curves.TryGetValue((cluster, "all_reduce", workers, workers), out var curve))
        {
            return null;
        }

        var (logSizes, logSeconds) = curve;
        if (bytes <= 0)
        {
            return 0;
        }

        var x = Math.Log(bytes);
        if (x <= logSizes[0])
        {
            return Math.Exp(logSeconds[0]);
        }

        if (x >= logSizes[^1])
        {
            return Math.Exp(logSeconds[^1]) * bytes / Math.Exp(logSizes[^1]);
        }

        var upper = Array.BinarySearch(logSizes, x);
        if (upper >= 0)
        {
            return Math.Exp(logSeconds[upper]);
        }

        upper = ~upper;
        var lower = upper - 1;
        var t = (x - logSizes[lower]) / (logSizes[upper] - logSizes[lower]);
        return Math.Exp(logSeconds[lower] + t * (logSeconds[upper] - logSeconds[lower]));
    }

    /// <summary>Reads a collective profile CSV file.</summary>
    /// <exception cref="StrataException">The file is missing or a row is malformed.</exception>
    public static CollectiveProfileTable Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new StrataException($"Collective profile file '{path}' does not exist; expected a CSV with columns {string.Join(", ", Columns)}.");
        }

        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses collective profile CSV text.</summary>
    /// <exception cref="StrataException">A column is missing or a value is out of range.</exception>
    public static CollectiveProfileTable Parse(string text, string origin)
    {
        var (fields, lines) = CsvFields.Open(text, origin, Columns);
        var rows = new List<CollectiveProfileRow>(lines.Length);
        for (var i = 1; i < lines.Length; i++)
        {
            if (!fields.Next(lines[i], i + 1))
            {
                continue;
            }

            var collective = fields.Text("collective");
            if (collective is not ("all_reduce" or "send_recv"))
            {
                throw fields.Error("collective", collective, "all_reduce or send_recv");
            }

            var workers = fields.PositiveInteger("num_workers");
            var perNode = fields.PositiveInteger("devices_per_node");
            if (perNode > workers)
            {
                throw fields.Error("devices_per_node", perNode.ToString(System.Globalization.CultureInfo.InvariantCulture), $"at most num_workers ({workers})");
            }

            var size = (long)fields.PositiveNumber("size_bytes");
            rows.Add(new CollectiveProfileRow(fields.Text("cluster"), collective, workers, perNode, size, fields.PositiveNumber("median_ms") / 1000.0, fields.Line));
        }

        if (rows.Count == 0)
        {
            throw new StrataException($"{origin}: no data rows after the header.");
        }

        return new CollectiveProfileTable(rows, origin);
    }
}
