using System.Globalization;
using Strata.Core;

namespace Strata.Performance.Profiles;

/// <summary>Measured GPU timings in the Splitwise profile format, grouped by deployment.</summary>
/// <remarks>
/// Columns (header names, any order; others ignored): <c>model, hardware, tensor_parallel, prompt_size,
/// batch_size, token_size, prompt_time, token_time</c>, times in milliseconds. The built-in table is the
/// 1,260 measurements behind the Splitwise paper (SplitwiseSim, MIT licence; see data/README.md).
/// </remarks>
public sealed class ProfileTable
{
    private static readonly string[] RequiredColumns =
        ["model", "hardware", "tensor_parallel", "prompt_size", "batch_size", "token_size", "prompt_time", "token_time"];

    private static readonly Lazy<ProfileTable> BuiltInTable = new(() =>
    {
        using var stream = typeof(ProfileTable).Assembly.GetManifestResourceStream("Strata.Performance.Profiles.perf_model.csv")
            ?? throw new InvalidOperationException("The embedded Splitwise profile is missing from Strata.Performance.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), "built-in perf_model.csv");
    });

    private readonly Dictionary<ProfileKey, ProfileRow[]> _byKey;

    private ProfileTable(IReadOnlyList<ProfileRow> rows, string origin)
    {
        Rows = rows;
        Origin = origin;
        _byKey = rows.GroupBy(row => row.Key).ToDictionary(group => group.Key, group => group.ToArray());
    }

    /// <summary>The Splitwise measurements shipped with Strata.</summary>
    public static ProfileTable BuiltIn => BuiltInTable.Value;

    /// <summary>Every row, in file order.</summary>
    public IReadOnlyList<ProfileRow> Rows { get; }

    /// <summary>Where the rows come from.</summary>
    public string Origin { get; }

    /// <summary>The deployments measured, in a stable order.</summary>
    public IEnumerable<ProfileKey> Keys => _byKey.Keys.OrderBy(key => key.Model).ThenBy(key => key.Hardware).ThenBy(key => key.TensorParallel);

    /// <summary>The rows of one deployment, or an empty list.</summary>
    public IReadOnlyList<ProfileRow> RowsFor(ProfileKey key) => _byKey.TryGetValue(key, out var rows) ? rows : [];

    /// <summary>Reads a profile CSV file.</summary>
    /// <exception cref="StrataException">The file is missing or a row is malformed; the message names file, line, column and value.</exception>
    public static ProfileTable Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new StrataException($"Profile file '{path}' does not exist; expected a CSV with columns {string.Join(", ", RequiredColumns)}.");
        }

        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses profile CSV text.</summary>
    public static ProfileTable Parse(string text, string origin)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n');
        if (lines.Length == 0 || string.IsNullOrWhiteSpace(lines[0]))
        {
            throw new StrataException($"{origin}: the file is empty; expected a header line with columns {string.Join(", ", RequiredColumns)}.");
        }

        var header = lines[0].TrimEnd('\r').Trim('\uFEFF').Split(',').Select(name => name.Trim().ToLowerInvariant()).ToArray();
        var index = new Dictionary<string, int>();
        foreach (var column in RequiredColumns)
        {
            var at = Array.IndexOf(header, column);
            if (at < 0)
            {
                throw new StrataException($"{origin}: line 1 has no '{column}' column; expected columns {string.Join(", ", RequiredColumns)}.");
            }

            index[column] = at;
        }

        var rows = new List<ProfileRow>(lines.Length);
        for (var i = 1; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var cells = line.Split(',');
            var number = i + 1;
            if (cells.Length < header.Length)
            {
                throw new StrataException($"{origin}: line {number} has {cells.Length} fields; expected {header.Length} as in the header.");
            }

            rows.Add(new ProfileRow(
                Text(cells, index, "model", origin, number),
                Text(cells, index, "hardware", origin, number),
                Integer(cells, index, "tensor_parallel", origin, number),
                Integer(cells, index, "prompt_size", origin, number),
                Integer(cells, index, "batch_size", origin, number),
                Integer(cells, index, "token_size", origin, number),
                Milliseconds(cells, index, "prompt_time", origin, number),
                Milliseconds(cells, index, "token_time", origin, number),
                number));
        }

        if (rows.Count == 0)
        {
            throw new StrataException($"{origin}: no data rows after the header.");
        }

        return new ProfileTable(rows, origin);
    }

    private static string Text(string[] cells, Dictionary<string, int> index, string column, string origin, int line)
    {
        var value = cells[index[column]].Trim();
        return value.Length > 0 ? value : throw new StrataException($"{origin}: line {line} column '{column}' is empty; expected a name.");
    }

    private static int Integer(string[] cells, Dictionary<string, int> index, string column, string origin, int line)
    {
        var value = cells[index[column]].Trim();
        return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw new StrataException($"{origin}: line {line} column '{column}' is '{value}'; expected a positive integer.");
    }

    private static double Milliseconds(string[] cells, Dictionary<string, int> index, string column, string origin, int line)
    {
        var value = cells[index[column]].Trim();
        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) && number > 0
            ? number / 1000.0
            : throw new StrataException($"{origin}: line {line} column '{column}' is '{value}'; expected a positive time in milliseconds.");
    }
}
