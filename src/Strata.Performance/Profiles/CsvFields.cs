using System.Globalization;
using Strata.Core;

namespace Strata.Performance.Profiles;

/// <summary>Reads a header-indexed CSV line by line, with one-sentence errors naming file, line, column, value and what was expected.</summary>
internal sealed class CsvFields
{
    private readonly Dictionary<string, int> _index;
    private readonly string _origin;
    private string[] _cells = [];

    private CsvFields(Dictionary<string, int> index, string origin, int columnCount)
    {
        _index = index;
        _origin = origin;
        ColumnCount = columnCount;
    }

    /// <summary>Columns in the header.</summary>
    public int ColumnCount { get; }

    /// <summary>Line number of the current row (1-based).</summary>
    public int Line { get; private set; }

    /// <summary>Reads the header and checks every required column is present.</summary>
    public static (CsvFields Fields, string[] Lines) Open(string text, string origin, IReadOnlyList<string> required)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n');
        if (lines.Length == 0 || string.IsNullOrWhiteSpace(lines[0]))
        {
            throw new StrataException($"{origin}: the file is empty; expected a header line with columns {string.Join(", ", required)}.");
        }

        var header = lines[0].TrimEnd('\r').Trim('\uFEFF').Split(',').Select(name => name.Trim().ToLowerInvariant()).ToArray();
        var index = new Dictionary<string, int>();
        for (var i = 0; i < header.Length; i++)
        {
            index.TryAdd(header[i], i);
        }

        foreach (var column in required)
        {
            if (!index.ContainsKey(column))
            {
                throw new StrataException($"{origin}: line 1 has no '{column}' column; expected columns {string.Join(", ", required)}.");
            }
        }

        return (new CsvFields(index, origin, header.Length), lines);
    }

    /// <summary>Moves to a data line; false for a blank line.</summary>
    public bool Next(string line, int number)
    {
        line = line.TrimEnd('\r');
        Line = number;
        if (string.IsNullOrWhiteSpace(line))
        {
            return false;
        }

        _cells = line.Split(',');
        if (_cells.Length < ColumnCount)
        {
            throw new StrataException($"{_origin}: line {number} has {_cells.Length} fields; expected {ColumnCount} as in the header.");
        }

        return true;
    }

    /// <summary>Whether the header has the column.</summary>
    public bool HasColumn(string column) => _index.ContainsKey(column);

    /// <summary>A non-empty text cell.</summary>
    public string Text(string column)
    {
        var value = Raw(column);
        return value.Length > 0 ? value : throw Error(column, value, "a name");
    }

    /// <summary>A positive integer cell.</summary>
    public int PositiveInteger(string column)
    {
        var value = Raw(column);
        return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw Error(column, value, "a positive integer");
    }

    /// <summary>A positive finite number, or NaN for an empty cell when <paramref name="allowEmpty"/>.</summary>
    public double PositiveNumber(string column, bool allowEmpty = false)
    {
        var value = Raw(column);
        if (allowEmpty && value.Length == 0)
        {
            return double.NaN;
        }

        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) && number > 0
            ? number
            : throw Error(column, value, allowEmpty ? "a positive number or an empty cell" : "a positive number");
    }

    /// <summary>A <c>True</c>/<c>False</c> cell.</summary>
    public bool Boolean(string column)
    {
        var value = Raw(column);
        return bool.TryParse(value, out var flag) ? flag : throw Error(column, value, "True or False");
    }

    /// <summary>An error about the current line.</summary>
    public StrataException Error(string column, string value, string expected) =>
        new($"{_origin}: line {Line} column '{column}' is '{value}'; expected {expected}.");

    private string Raw(string column) => _cells[_index[column]].Trim();
}
