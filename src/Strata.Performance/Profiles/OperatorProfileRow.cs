namespace Strata.Performance.Profiles;

/// <summary>One measured point of the operator profiles: every operator of one layer for one token count and tensor-parallel degree.</summary>
/// <param name="Gpu">GPU as the profiles name it (<c>a100</c>, <c>h100</c>).</param>
/// <param name="Model">Model as the profiles name it (<c>meta-llama/Llama-2-70b-hf</c>).</param>
/// <param name="Shape">The model's layer widths.</param>
/// <param name="Tokens">Tokens in the batch (the GEMMs' M dimension).</param>
/// <param name="TensorParallel">Tensor-parallel degree; times are for one shard.</param>
/// <param name="OperatorSeconds">Median time per operator, indexed by <see cref="LayerOperator"/>; NaN where the model has no such operator.</param>
/// <param name="Line">Line in the source file, for messages.</param>
public sealed record OperatorProfileRow(string Gpu, string Model, LayerShape Shape, int Tokens, int TensorParallel, IReadOnlyList<double> OperatorSeconds, int Line)
{
    /// <summary>Whether the operator was measured for this model.</summary>
    public bool Has(LayerOperator op) => !double.IsNaN(OperatorSeconds[(int)op]);

    /// <summary>Median seconds of one operator (NaN when the model has none).</summary>
    public double Seconds(LayerOperator op) => OperatorSeconds[(int)op];

    /// <summary>Sum of the per-layer operators measured (the embedding, which runs once per step, excluded).</summary>
    public double LayerSeconds
    {
        get
        {
            var sum = 0.0;
            for (var op = LayerOperator.InputNorm; op <= LayerOperator.ResidualAdd; op++)
            {
                if (Has(op))
                {
                    sum += Seconds(op);
                }
            }

            return sum;
        }
    }
}
