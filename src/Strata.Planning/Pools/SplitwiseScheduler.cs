using Strata.Core.Workload;

namespace Strata.Planning.Pools;

/// <summary>Splitwise's cluster-level scheduler: prompt and token pools, join-the-shortest-queue in pending tokens, both machines picked at arrival, borrowing into a mixed pool under load.</summary>
/// <remarks>
/// The prefill machine is the prompt machine with the fewest pending prompt tokens; the decode machine the token
/// machine with the fewest pending decode tokens. When the best prompt machine's queue passes
/// <see cref="PromptQueueThresholdTokens"/>, a token machine with a shorter prompt queue is borrowed into the mixed
/// pool and the request runs entirely there (no transfer); when the best token machine's KV memory passes
/// <see cref="TokenKvThreshold"/>, the prompt machine keeps the request and decodes it itself. A borrowed machine
/// goes back to its home pool as soon as its mixed work drains, since borrowing is decided per request.
/// </remarks>
public sealed class SplitwiseScheduler : IClusterScheduler
{
    /// <summary>Pending prompt tokens past which the prompt pool borrows a token machine (Splitwise batches up to 2,048 prompt tokens; default 4 such batches).</summary>
    public long PromptQueueThresholdTokens { get; init; } = 4 * 2048;

    /// <summary>KV utilisation of the best token machine past which the prompt machine decodes the request itself.</summary>
    public double TokenKvThreshold { get; init; } = 0.95;

    /// <inheritdoc />
    public string Name => "splitwise";

    /// <inheritdoc />
    public RouteDecision Route(in InferenceRequest request, IClusterView cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        int prompt = -1, token = -1, mixedCandidate = -1;
        long promptTokens = long.MaxValue, decodeTokens = long.MaxValue, mixedTokens = long.MaxValue;
        for (var m = 0; m < cluster.MachineCount; m++)
        {
            var role = cluster.Role(m);
            if (role == MachineRole.Token)
            {
                var pending = cluster.PendingDecodeTokens(m);
                if (pending < decodeTokens)
                {
                    (token, decodeTokens) = (m, pending);
                }

                var queued = cluster.PendingPromptTokens(m);
                if (queued < mixedTokens)
                {
                    (mixedCandidate, mixedTokens) = (m, queued);
                }
            }
            else
            {
                var pending = cluster.PendingPromptTokens(m);
                if (pending < promptTokens)
                {
                    (prompt, promptTokens) = (m, pending);
                }
            }
        }

        if (prompt < 0 && token < 0)
        {
            throw new InvalidOperationException("A Splitwise cluster needs at least one machine.");
        }

        if (prompt < 0)
        {
            return new RouteDecision(mixedCandidate, mixedCandidate);
        }

        if (token < 0)
        {
            return new RouteDecision(prompt, prompt);
        }

        if (promptTokens > PromptQueueThresholdTokens && mixedTokens < promptTokens)
        {
            return new RouteDecision(mixedCandidate, mixedCandidate);
        }

        return cluster.KvUtilization(token) > TokenKvThreshold && cluster.KvUtilization(prompt) < TokenKvThreshold
            ? new RouteDecision(prompt, prompt)
            : new RouteDecision(prompt, token);
    }
}
