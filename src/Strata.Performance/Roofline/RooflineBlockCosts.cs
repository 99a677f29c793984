namespace Strata.Performance.Roofline;

/// <summary>The roofline's per-block costs: one block is the model with two blocks minus the model with one.</summary>
/// <remarks>
/// Every block term of <see cref="RooflineModel.Cost"/> is linear in the block count, so the difference is exactly one
/// block, without the LM head and the fixed per-step overheads (those belong to an engine, not a block); <c>k</c>
/// blocks cost <c>k</c> times one. The head is the one-block model's roofline and communication time less one block:
/// <c>2 one - two</c>, overheads excluded. Calibrated factors (<see cref="RooflineCalibration"/>) apply to both.
/// </remarks>
public sealed class RooflineBlockCosts : IBlockCostModel
{
    private readonly RooflineModel _one;
    private readonly RooflineModel _two;

    /// <summary>Per-block costs of <paramref name="deployment"/>'s model on its machine with <paramref name="calibration"/>.</summary>
    /// <remarks>
    /// The planners do not build these themselves: they price blocks through <see cref="Estimation.ScoredModel"/>, which
    /// uses a roofline only with factors fitted to the deployment's own measurements.
    /// </remarks>
    public RooflineBlockCosts(Deployment deployment, RooflineCalibration calibration)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(calibration);
        _one = new RooflineModel(new Deployment(deployment.Model with { LayerCount = 1 }, deployment.Machine, deployment.Precision), calibration);
        _two = new RooflineModel(new Deployment(deployment.Model with { LayerCount = 2 }, deployment.Machine, deployment.Precision), calibration);
        Deployment = deployment;
    }

    /// <inheritdoc />
    public string Name => "roofline";

    /// <summary>The deployment priced.</summary>
    public Deployment Deployment { get; }

    /// <inheritdoc />
    public double BlocksSeconds(int blockCount, in BatchShape batch) =>
        blockCount <= 0 || batch.IsEmpty ? 0 : blockCount * Math.Max(0, _two.Cost(batch).TotalSeconds - _one.Cost(batch).TotalSeconds);

    /// <inheritdoc />
    public double HeadSeconds(in BatchShape batch)
    {
        if (batch.IsEmpty)
        {
            return 0;
        }

        var one = _one.Cost(batch);
        var two = _two.Cost(batch);
        return Math.Max(0, (2 * (one.RooflineSeconds + one.CommunicationSeconds)) - (two.RooflineSeconds + two.CommunicationSeconds));
    }

    /// <summary>FLOPs of one block over <paramref name="batch"/> (per device of the tensor-parallel group).</summary>
    public double BlockFlops(in BatchShape batch) => batch.IsEmpty ? 0 : Math.Max(0, _two.Cost(batch).Flops - _one.Cost(batch).Flops);

    /// <summary>FLOPs of one block of <paramref name="deployment"/>'s model over <paramref name="batch"/>, per device of the tensor-parallel group: <c>(2 n P + 4 h pairs) / t</c> (projections and MLP, then QK^T and AV).</summary>
    /// <remarks>The roofline's own count, which no calibration factor changes; the split planner's server-load unit.</remarks>
    public static double FlopsPerBlock(Deployment deployment, in BatchShape batch)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        if (batch.IsEmpty)
        {
            return 0;
        }

        var model = deployment.Model;
        var pairs = batch.PrefillAttentionPairs + batch.DecodeContextTokens;
        return ((2.0 * batch.Tokens * model.ParametersPerBlock) + (4.0 * model.HiddenSize * pairs)) / deployment.TensorParallel;
    }
}
