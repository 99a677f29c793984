using Strata.Core.Models;
using Strata.Performance.Profiles;

namespace Strata.Performance.Operators;

/// <summary>A step's time from per-device fitted operator costs: the performance model for deployments nobody measured.</summary>
/// <remarks>
/// Per step of n tokens and s sequences on a layer count L:
/// <c>(L x (operators(n) + attention) + embedding(n) + LM head(s)) / large-step factor + L x (2 all-reduces of n x h activations + host overhead) + s x sequence</c>.
/// Operators are the fitted GEMM and element-wise costs of <see cref="OperatorCosts"/> (source: Vidur operator profiles,
/// per GPU); attention is analytical (FLOPs of QK^T and AV at the fitted attention efficiency, or KV bytes at the GEMM
/// memory efficiency, whichever is slower); all-reduces come from the measured NCCL curve of the GPU's node when there
/// is one, else a ring all-reduce over the machine's link; the step and per-sequence terms and the attention
/// efficiency and the large-step factor come from the Splitwise end-to-end measurements (<see cref="ServingOverhead"/>).
/// As an <see cref="IBlockCostModel"/> (what the split and swarm planners price blocks with), <c>k</c> blocks cost
/// <c>k x ((operators + attention) / large-step factor + 2 all-reduces + host overhead)</c> and the head the rest of the
/// step: <c>(embedding + LM head) / large-step factor + s x sequence</c>, so <c>L</c> blocks plus the head are exactly
/// <see cref="StepSeconds"/>.
/// </remarks>
public sealed class DeviceModel : IPerformanceModel, IBlockCostModel
{
    private readonly LayerShape _shape;
    private readonly DeviceRates _rates;
    private readonly double _layers;
    private readonly double _tensorParallel;
    private readonly double _queryWidthPerShard;
    private readonly double _kvBytesPerTokenPerShard;
    private readonly double _activationBytes;
    private readonly CollectiveProfileTable? _collectives;
    private readonly string? _cluster;
    private readonly double _linkBandwidth;
    private readonly double _linkLatencySeconds;

    /// <summary>Creates the model of <paramref name="deployment"/> with one device's parameters and serving overhead.</summary>
    /// <param name="deployment">Model, machine and precision.</param>
    /// <param name="parameters">The device's fitted operator parameters.</param>
    /// <param name="overhead">Serving-stack overhead and attention efficiency.</param>
    /// <param name="collectives">Measured all-reduce times, or null to use the machine's link.</param>
    /// <param name="cluster">The NCCL profile cluster of the deployment's node (<c>a100_dgx</c>), or null.</param>
    public DeviceModel(Deployment deployment, DeviceParameters parameters, ServingOverhead overhead, CollectiveProfileTable? collectives = null, string? cluster = null)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(overhead);
        Deployment = deployment;
        Parameters = parameters.Validate();
        Overhead = overhead.Validate();
        var model = deployment.Model;
        _shape = LayerShape.Of(model);
        _activationBytes = PrecisionInfo.ActivationBytes(deployment.Precision);
        _rates = new DeviceRates(deployment.Device.PeakFlopsFor(deployment.Precision), deployment.Device.MemoryBandwidthBytesPerSecond,
            PrecisionInfo.BytesPerParameter(deployment.Precision), _activationBytes);
        _layers = model.LayerCount;
        _tensorParallel = deployment.TensorParallel;
        _queryWidthPerShard = (double)model.AttentionHeadCount * model.HeadDimension / _tensorParallel;
        _kvBytesPerTokenPerShard = 2.0 * model.KeyValueDimension * _activationBytes / _tensorParallel;
        if (collectives is not null && cluster is not null && collectives.HasAllReduce(cluster, deployment.TensorParallel))
        {
            _collectives = collectives;
            _cluster = cluster;
        }

        var link = deployment.Machine.Interconnect ?? deployment.Device.Interconnect;
        _linkBandwidth = link?.BandwidthBytesPerSecond ?? 25e9;
        _linkLatencySeconds = link?.LatencySeconds ?? 10e-6;
    }

    /// <inheritdoc />
    public string Name => "device";

    /// <inheritdoc />
    public Deployment Deployment { get; }

    /// <summary>The device's operator parameters.</summary>
    public DeviceParameters Parameters { get; }

    /// <summary>Serving-stack overhead and attention efficiency.</summary>
    public ServingOverhead Overhead { get; }

    /// <summary>Whether all-reduce times come from measured NCCL profiles (else from the link's datasheet numbers).</summary>
    public bool MeasuredAllReduce => _collectives is not null;

    /// <inheritdoc />
    public double StepSeconds(in BatchShape batch)
    {
        if (batch.IsEmpty)
        {
            return 0;
        }

        var (layer, communication, embedding, head) = Terms(batch);
        return (_layers * layer + embedding + head) / Overhead.LargeStepFactor(batch.Tokens)
            + _layers * (communication + Overhead.LayerSeconds) + Overhead.SequenceSeconds * batch.Sequences;
    }

    /// <inheritdoc />
    public double BlocksSeconds(int blockCount, in BatchShape batch)
    {
        if (blockCount <= 0 || batch.IsEmpty)
        {
            return 0;
        }

        var (layer, communication, _, _) = Terms(batch);
        return blockCount * ((layer / Overhead.LargeStepFactor(batch.Tokens)) + communication + Overhead.LayerSeconds);
    }

    /// <inheritdoc />
    public double HeadSeconds(in BatchShape batch)
    {
        if (batch.IsEmpty)
        {
            return 0;
        }

        var (_, _, embedding, head) = Terms(batch);
        return ((embedding + head) / Overhead.LargeStepFactor(batch.Tokens)) + Overhead.SequenceSeconds * batch.Sequences;
    }

    /// <summary>One layer's operators and attention, its two all-reduces, the embedding and the LM head, seconds.</summary>
    private (double Layer, double Communication, double Embedding, double Head) Terms(in BatchShape batch)
    {
        double tokens = batch.Tokens;
        double sequences = batch.Sequences;
        var p = Parameters;
        var tp = Deployment.TensorParallel;
        var operators = OperatorCosts.LayerSeconds(p, _rates, _shape, tokens, tp);

        var pairs = batch.PrefillAttentionPairs + batch.DecodeContextTokens;
        var attentionFlops = 4.0 * _queryWidthPerShard * pairs;
        var attentionBytes = _kvBytesPerTokenPerShard * (batch.PrefillContextTokens + batch.DecodeContextTokens + tokens);
        var attention = p.GemmLaunchSeconds + Math.Max(
            attentionFlops / (_rates.PeakFlopsPerSecond * Overhead.AttentionEfficiency),
            attentionBytes / (_rates.MemoryBytesPerSecond * p.GemmMemoryEfficiency));

        var communication = tp > 1 ? 2.0 * AllReduceSeconds(tokens * _shape.HiddenSize * _activationBytes) : 0.0;

        var embedding = OperatorCosts.Seconds(p, _rates, LayerOperator.Embedding, _shape, tokens, tp);
        var head = OperatorCosts.GemmSeconds(p, _rates, sequences, (double)_shape.VocabularySize / _tensorParallel, _shape.HiddenSize);
        return (operators + attention, communication, embedding, head);
    }

    /// <summary>One all-reduce of <paramref name="bytes"/> over the tensor-parallel group.</summary>
    public double AllReduceSeconds(double bytes)
    {
        if (_collectives is not null && _collectives.AllReduceSeconds(_cluster!, Deployment.TensorParallel, bytes) is { } measured)
        {
            return measured;
        }

        var tp = _tensorParallel;
        return 2.0 * (tp - 1) / tp * bytes / _linkBandwidth + 2.0 * (tp - 1) * _linkLatencySeconds;
    }
}
