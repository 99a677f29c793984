using Strata.Core.Models;

namespace Strata.Performance.Memory;

/// <summary>What a deployment holds in device memory: weights, KV cache per token, activations per token.</summary>
/// <remarks>
/// KV bytes per token per block = 2 (K and V) x KV heads x head width x element bytes: grouped-query aware,
/// so Llama-2-70B (8 KV heads of 128) stores 8x less than its 64 query heads would suggest. Weights and KV
/// split evenly over the tensor-parallel devices; a share <see cref="MemoryUtilization"/> of device memory is
/// usable (the rest is runtime, CUDA context and activation workspace), as vLLM's <c>gpu_memory_utilization</c>.
/// </remarks>
public sealed class MemoryModel
{
    /// <summary>The default usable share of device memory (vLLM's default).</summary>
    public const double DefaultMemoryUtilization = 0.9;

    /// <summary>Creates the memory model of <paramref name="deployment"/>.</summary>
    public MemoryModel(Deployment deployment, double memoryUtilization = DefaultMemoryUtilization)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(memoryUtilization);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(memoryUtilization, 1);
        Deployment = deployment;
        MemoryUtilization = memoryUtilization;
        var model = deployment.Model;
        var bytesPerParameter = PrecisionInfo.BytesPerParameter(deployment.Precision);
        var elementBytes = PrecisionInfo.ActivationBytes(deployment.Precision);
        WeightsBytesPerBlock = model.ParametersPerBlock * bytesPerParameter;
        EmbeddingAndHeadBytes = (model.EmbeddingParameters + model.LmHeadParameters) * bytesPerParameter;
        WeightsBytes = WeightsBytesPerBlock * model.LayerCount + EmbeddingAndHeadBytes;
        KvBytesPerTokenPerBlock = 2.0 * model.KeyValueDimension * elementBytes;
        KvBytesPerToken = KvBytesPerTokenPerBlock * model.LayerCount;
        ActivationBytesPerToken = (double)model.HiddenSize * elementBytes;
        UsableBytes = (double)deployment.Device.MemoryBytes * deployment.TensorParallel * memoryUtilization;
    }

    /// <summary>The deployment.</summary>
    public Deployment Deployment { get; }

    /// <summary>Usable share of device memory.</summary>
    public double MemoryUtilization { get; }

    /// <summary>All weights, over every device.</summary>
    public double WeightsBytes { get; }

    /// <summary>Weights held by each device.</summary>
    public double WeightsBytesPerDevice => WeightsBytes / Deployment.TensorParallel;

    /// <summary>Weights of one transformer block.</summary>
    public double WeightsBytesPerBlock { get; }

    /// <summary>Weights of the embedding and (untied) LM head.</summary>
    public double EmbeddingAndHeadBytes { get; }

    /// <summary>KV cache of one token in one block.</summary>
    public double KvBytesPerTokenPerBlock { get; }

    /// <summary>KV cache of one token over the whole model.</summary>
    public double KvBytesPerToken { get; }

    /// <summary>Size of one token's hidden state, what moves between blocks on different hosts.</summary>
    public double ActivationBytesPerToken { get; }

    /// <summary>Memory usable over all devices.</summary>
    public double UsableBytes { get; }

    /// <summary>Whether the weights fit in usable memory.</summary>
    public bool WeightsFit => WeightsBytes <= UsableBytes;

    /// <summary>Tokens of KV cache that fit beside the weights (0 when the weights do not fit).</summary>
    public long KvCapacityTokens => WeightsFit ? (long)Math.Floor((UsableBytes - WeightsBytes) / KvBytesPerToken) : 0;

    /// <summary>Largest number of requests of <paramref name="tokensPerRequest"/> tokens each whose KV cache fits at once.</summary>
    public int MaxBatch(int tokensPerRequest)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokensPerRequest);
        return (int)Math.Min(int.MaxValue, KvCapacityTokens / tokensPerRequest);
    }

    /// <summary>Whether <paramref name="batch"/> requests of <paramref name="tokensPerRequest"/> tokens each fit with the weights.</summary>
    public bool Fits(int batch, int tokensPerRequest) => WeightsFit && MaxBatch(tokensPerRequest) >= batch;
}
