namespace Strata.Performance.Estimation;

/// <summary>What a batch of identical requests costs on a deployment when it runs alone.</summary>
/// <param name="TtftSeconds">Time to first token: the prefill of the whole batch.</param>
/// <param name="TbtSeconds">Mean time between tokens: the mean decode step.</param>
/// <param name="E2eSeconds">Arrival to last token: prefill plus every decode step.</param>
/// <param name="FirstTbtSeconds">The first decode step (shortest context).</param>
/// <param name="LastTbtSeconds">The last decode step (longest context).</param>
/// <param name="WeightsBytes">All weights over every device.</param>
/// <param name="WeightsBytesPerDevice">Weights each device holds.</param>
/// <param name="KvBytesPerToken">KV cache of one token over the whole model.</param>
/// <param name="KvBytesForBatch">KV cache of the whole batch at its longest.</param>
/// <param name="UsableMemoryBytes">Memory usable over all devices.</param>
/// <param name="Fits">Whether weights and the batch's KV cache fit.</param>
/// <param name="MaxBatch">Most requests of this length whose KV cache fits beside the weights.</param>
/// <param name="ThroughputTokensPerSecond">Output tokens per second of the batch over its E2E time.</param>
public sealed record RequestEstimate(
    double TtftSeconds,
    double TbtSeconds,
    double E2eSeconds,
    double FirstTbtSeconds,
    double LastTbtSeconds,
    double WeightsBytes,
    double WeightsBytesPerDevice,
    double KvBytesPerToken,
    double KvBytesForBatch,
    double UsableMemoryBytes,
    bool Fits,
    int MaxBatch,
    double ThroughputTokensPerSecond);
