namespace Strata.Performance;

/// <summary>Per-block costs that follow a whole-model <see cref="IPerformanceModel"/> (measured, calibrated or fitted): another model's split of a step into blocks and head, scaled so that <c>L</c> blocks plus the head take what the whole model predicts.</summary>
/// <remarks>
/// For a batch, <c>factor = whole.StepSeconds(batch) / (shape.BlocksSeconds(L, batch) + shape.HeadSeconds(batch))</c>;
/// <c>k</c> blocks then cost <c>factor x shape.BlocksSeconds(k, batch)</c> and the head <c>factor x shape.HeadSeconds(batch)</c>.
/// So a measured profile's time reaches the planners with the roofline's proportions between blocks and head.
/// </remarks>
public sealed class ScaledBlockCosts : IBlockCostModel
{
    private readonly IPerformanceModel _whole;
    private readonly IBlockCostModel _shape;
    private readonly int _layers;

    /// <summary>Follows <paramref name="whole"/> with the proportions of <paramref name="shape"/>.</summary>
    public ScaledBlockCosts(IPerformanceModel whole, IBlockCostModel shape)
    {
        ArgumentNullException.ThrowIfNull(whole);
        ArgumentNullException.ThrowIfNull(shape);
        _whole = whole;
        _shape = shape;
        _layers = whole.Deployment.Model.LayerCount;
    }

    /// <inheritdoc />
    public string Name => _whole.Name;

    /// <inheritdoc />
    public double BlocksSeconds(int blockCount, in BatchShape batch) => Factor(batch) * _shape.BlocksSeconds(blockCount, batch);

    /// <inheritdoc />
    public double HeadSeconds(in BatchShape batch) => Factor(batch) * _shape.HeadSeconds(batch);

    private double Factor(in BatchShape batch)
    {
        if (batch.IsEmpty)
        {
            return 0;
        }

        var parts = _shape.BlocksSeconds(_layers, batch) + _shape.HeadSeconds(batch);
        return parts > 0 ? _whole.StepSeconds(batch) / parts : 0;
    }
}
