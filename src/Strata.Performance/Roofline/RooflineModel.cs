using Strata.Core.Models;

namespace Strata.Performance.Roofline;

/// <summary>An analytical performance model: FLOPs and bytes per operator group, time = max(compute, memory) plus overheads.</summary>
/// <remarks>
/// Three operator groups per step, each bound by compute or by memory on its own:
/// the block projections and MLP (weights read once per step), attention (KV cache read and written), and the LM head.
/// FLOPs, weights and KV are split evenly over the tensor-parallel devices; every block then all-reduces its
/// attention and MLP outputs (ring all-reduce over the machine's interconnect).
/// </remarks>
public sealed class RooflineModel : IPerformanceModel
{
    private readonly double _layers;
    private readonly double _hidden;
    private readonly double _parametersPerBlock;
    private readonly double _lmHeadParameters;
    private readonly double _kvBytesPerTokenPerLayer;
    private readonly double _activationBytesPerTokenPerLayer;
    private readonly double _weightBytesPerParameter;
    private readonly double _activationBytes;
    private readonly double _tensorParallel;
    private readonly double _peakFlops;
    private readonly double _bandwidth;
    private readonly double _linkBandwidth;
    private readonly double _linkLatencySeconds;

    /// <summary>Creates a roofline for <paramref name="deployment"/> with the given factors.</summary>
    public RooflineModel(Deployment deployment, RooflineCalibration calibration)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(calibration);
        Deployment = deployment;
        Calibration = calibration.Validate();
        var model = deployment.Model;
        _layers = model.LayerCount;
        _hidden = model.HiddenSize;
        _parametersPerBlock = model.ParametersPerBlock;
        _lmHeadParameters = (double)model.VocabularySize * model.HiddenSize;
        _activationBytes = PrecisionInfo.ActivationBytes(deployment.Precision);
        _kvBytesPerTokenPerLayer = 2.0 * model.KeyValueDimension * _activationBytes;
        // Each intermediate tensor written once and read once: ~10 h-wide tensors and the MLP's I-wide ones.
        _activationBytesPerTokenPerLayer = _activationBytes * (10.0 * model.HiddenSize + (model.Mlp == MlpKind.Gated ? 3.0 : 2.0) * model.IntermediateSize);
        _weightBytesPerParameter = PrecisionInfo.BytesPerParameter(deployment.Precision);
        _tensorParallel = deployment.TensorParallel;
        _peakFlops = deployment.Device.PeakFlopsFor(deployment.Precision);
        _bandwidth = deployment.Device.MemoryBandwidthBytesPerSecond;
        var link = deployment.Machine.Interconnect ?? deployment.Device.Interconnect;
        _linkBandwidth = link?.BandwidthBytesPerSecond ?? 25e9;
        _linkLatencySeconds = link?.LatencySeconds ?? 10e-6;
    }

    /// <inheritdoc />
    public string Name => "roofline";

    /// <inheritdoc />
    public Deployment Deployment { get; }

    /// <summary>The factors in use.</summary>
    public RooflineCalibration Calibration { get; }

    /// <inheritdoc />
    public double StepSeconds(in BatchShape batch) => batch.IsEmpty ? 0 : Cost(batch).TotalSeconds;

    /// <summary>The full breakdown of one step.</summary>
    public StepCost Cost(in BatchShape batch)
    {
        if (batch.IsEmpty)
        {
            return default;
        }

        var c = Calibration;
        var tp = _tensorParallel;
        double tokens = batch.Tokens;
        var computeRate = _peakFlops * c.ComputeEfficiency * c.LargeBatchFactor(tokens);
        var memoryRate = _bandwidth * c.MemoryEfficiency;

        // Projections and MLP: 2 FLOPs per weight per token; weights read once, activations streamed.
        var linearFlops = 2.0 * tokens * _parametersPerBlock * _layers / tp;
        var linearBytes = (_parametersPerBlock * _weightBytesPerParameter + tokens * _activationBytesPerTokenPerLayer) * _layers / tp;

        // Attention: QK^T and AV, 2 FLOPs per multiply-add over the full hidden width, per query-key pair.
        var pairs = batch.PrefillAttentionPairs + batch.DecodeContextTokens;
        var attentionFlops = 4.0 * _hidden * pairs * _layers / tp;
        var kvTokensRead = batch.PrefillContextTokens + batch.DecodeContextTokens;
        var attentionBytes = _kvBytesPerTokenPerLayer * (kvTokensRead + tokens) * _layers / tp;

        // LM head: logits for the last token of each sequence.
        double sequences = batch.Sequences;
        var headFlops = 2.0 * sequences * _lmHeadParameters / tp;
        var headBytes = (_lmHeadParameters * _weightBytesPerParameter + sequences * _lmHeadParameters / _hidden * 4.0) / tp;

        var linear = Math.Max(linearFlops / computeRate, linearBytes / memoryRate);
        var attention = Math.Max(attentionFlops / computeRate, attentionBytes / memoryRate);
        var head = Math.Max(headFlops / computeRate, headBytes / memoryRate);

        // Two ring all-reduces of the (tokens x hidden) activations per block.
        var communication = 0.0;
        if (tp > 1)
        {
            var messageBytes = tokens * _hidden * _activationBytes;
            var perAllReduce = 2.0 * (tp - 1) / tp * messageBytes / _linkBandwidth + 2.0 * (tp - 1) * _linkLatencySeconds;
            communication = 2.0 * _layers * perAllReduce;
        }

        var overhead = c.StepOverheadSeconds + c.SequenceOverheadSeconds * sequences;
        var flops = linearFlops + attentionFlops + headFlops;
        var bytes = linearBytes + attentionBytes + headBytes;
        return new StepCost(flops, bytes, flops / computeRate, bytes / memoryRate, linear + attention + head, communication, overhead);
    }
}
