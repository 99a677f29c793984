using Strata.Core;

namespace Strata.Performance.Profiles;

/// <summary>Per-operator GPU timings of transformer layers (Vidur's profiles, condensed), grouped by GPU and model.</summary>
/// <remarks>
/// Columns (header names, any order; others ignored): <c>gpu, model, n_head, n_kv_head, n_embd, n_expanded_embd,
/// vocab_size, use_gated_mlp, num_tokens, tensor_parallel</c> and one <c>&lt;operator&gt;_ms</c> column per
/// <see cref="LayerOperator"/> (Vidur's names: <c>emb_ms, input_layernorm_ms, attn_pre_proj_ms, attn_rope_ms,
/// attn_post_proj_ms, post_attention_layernorm_ms, mlp_up_proj_ms, mlp_act_ms, mlp_down_proj_ms, add_ms</c>): median
/// milliseconds per layer for one tensor-parallel shard, fp16. An empty time means the model has no such operator
/// (only <c>post_attention_layernorm</c> may be empty). The built-in table is data/vidur-profiles/operators.csv
/// (MIT, Microsoft Vidur; see data/README.md).
/// </remarks>
public sealed class OperatorProfileTable
{
    /// <summary>The time column of each operator, indexed by <see cref="LayerOperator"/>.</summary>
    public static readonly IReadOnlyList<string> TimeColumns =
    [
        "emb_ms", "input_layernorm_ms", "attn_pre_proj_ms", "attn_rope_ms", "attn_post_proj_ms",
        "post_attention_layernorm_ms", "mlp_up_proj_ms", "mlp_act_ms", "mlp_down_proj_ms", "add_ms",
    ];

    private static readonly string[] ShapeColumns =
        ["gpu", "model", "n_head", "n_kv_head", "n_embd", "n_expanded_embd", "vocab_size", "use_gated_mlp", "num_tokens", "tensor_parallel"];

    private static readonly Lazy<OperatorProfileTable> BuiltInTable = new(() =>
        Parse(EmbeddedText("Strata.Performance.Profiles.vidur_operators.csv"), "built-in vidur-profiles/operators.csv"));

    private OperatorProfileTable(IReadOnlyList<OperatorProfileRow> rows, string origin)
    {
        Rows = rows;
        Origin = origin;
    }

    /// <summary>The Vidur operator profiles shipped with Strata (A100 and H100; see data/vidur-profiles/README.md).</summary>
    public static OperatorProfileTable BuiltIn => BuiltInTable.Value;

    /// <summary>Every row, in file order.</summary>
    public IReadOnlyList<OperatorProfileRow> Rows { get; }

    /// <summary>Where the rows come from.</summary>
    public string Origin { get; }

    /// <summary>The GPUs measured, sorted.</summary>
    public IReadOnlyList<string> Gpus => Rows.Select(row => row.Gpu).Distinct().Order(StringComparer.Ordinal).ToArray();

    /// <summary>The models measured on <paramref name="gpu"/>, sorted.</summary>
    public IReadOnlyList<string> ModelsOn(string gpu) => Rows.Where(row => row.Gpu == gpu).Select(row => row.Model).Distinct().Order(StringComparer.Ordinal).ToArray();

    /// <summary>The rows measured on <paramref name="gpu"/>.</summary>
    public IReadOnlyList<OperatorProfileRow> RowsOn(string gpu) => Rows.Where(row => row.Gpu == gpu).ToArray();

    /// <summary>Reads an operator profile CSV file.</summary>
    /// <exception cref="StrataException">The file is missing or a row is malformed.</exception>
    public static OperatorProfileTable Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new StrataException($"Operator profile file '{path}' does not exist; expected a CSV with columns {string.Join(", ", ShapeColumns.Concat(TimeColumns))}.");
        }

        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses operator profile CSV text.</summary>
    /// <exception cref="StrataException">A column is missing or a value is out of range; the message names origin, line, column and value.</exception>
    public static OperatorProfileTable Parse(string text, string origin)
    {
        var (fields, lines) = CsvFields.Open(text, origin, [.. ShapeColumns, .. TimeColumns]);
        var rows = new List<OperatorProfileRow>(lines.Length);
        for (var i = 1; i < lines.Length; i++)
        {
            if (!fields.Next(lines[i], i + 1))
            {
                continue;
            }

            var shape = new LayerShape(
                fields.PositiveInteger("n_head"),
                fields.PositiveInteger("n_kv_head"),
                fields.PositiveInteger("n_embd"),
                fields.PositiveInteger("n_expanded_embd"),
                fields.PositiveInteger("vocab_size"),
                fields.Boolean("use_gated_mlp"));
            if (shape.HiddenSize % shape.HeadCount != 0 || shape.HeadCount % shape.KeyValueHeadCount != 0)
            {
                throw fields.Error("n_head", shape.HeadCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    $"a head count that divides n_embd ({shape.HiddenSize}) and is a multiple of n_kv_head ({shape.KeyValueHeadCount})");
            }

            var tp = fields.PositiveInteger("tensor_parallel");
            if (shape.HeadCount % tp != 0)
            {
                throw fields.Error("tensor_parallel", tp.ToString(System.Globalization.CultureInfo.InvariantCulture), $"a degree that divides n_head ({shape.HeadCount})");
            }

            var seconds = new double[TimeColumns.Count];
            for (var op = 0; op < seconds.Length; op++)
            {
                var optional = (LayerOperator)op == LayerOperator.PostAttentionNorm;
                seconds[op] = fields.PositiveNumber(TimeColumns[op], allowEmpty: optional) / 1000.0;
            }

            rows.Add(new OperatorProfileRow(fields.Text("gpu"), fields.Text("model"), shape, fields.PositiveInteger("num_tokens"), tp, seconds, fields.Line));
        }

        if (rows.Count == 0)
        {
            throw new StrataException($"{origin}: no data rows after the header.");
        }

        return new OperatorProfileTable(rows, origin);
    }

    /// <summary>The text of an embedded resource of this assembly.</summary>
    internal static string EmbeddedText(string name)
    {
        using var stream = typeof(OperatorProfileTable).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded resource {name} is missing from Strata.Performance.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
