namespace Strata.Runtime.Sampling;

/// <summary>The log-probability of a sampled token under the model's distribution, with the most likely alternatives.</summary>
/// <remarks>
/// The distribution is the log-softmax of the raw logits the sampler chose from (before temperature and top-p), as vLLM
/// and OpenAI report it; computed in double precision with the max subtracted first.
/// </remarks>
/// <param name="Logprob">Natural log of the chosen token's probability (at most 0).</param>
/// <param name="Top">The most likely tokens, most likely first (ties: lower id first), with their log-probabilities; empty when none were asked for.</param>
public sealed record TokenLogprobs(double Logprob, IReadOnlyList<(int TokenId, double Logprob)> Top)
{
    /// <summary>Most alternatives per token (OpenAI's limit for <c>top_logprobs</c>).</summary>
    public const int MaxTop = 20;

    /// <summary>The log-probability of <paramref name="tokenId"/> and the <paramref name="topCount"/> most likely tokens under <c>log_softmax(logits)</c>.</summary>
    /// <param name="logits">The logits sampled from, <c>(vocab)</c>; all finite.</param>
    /// <param name="tokenId">The token chosen.</param>
    /// <param name="topCount">Alternatives to list, 0 to <see cref="MaxTop"/> (fewer when the vocabulary is smaller).</param>
    public static TokenLogprobs Compute(ReadOnlySpan<float> logits, int tokenId, int topCount)
    {
        ArgumentOutOfRangeException.ThrowIfZero(logits.Length, nameof(logits));
        ArgumentOutOfRangeException.ThrowIfNegative(tokenId);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(tokenId, logits.Length);
        ArgumentOutOfRangeException.ThrowIfNegative(topCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(topCount, MaxTop);
        var max = double.NegativeInfinity;
        foreach (var logit in logits)
        {
            max = Math.Max(max, logit);
        }

        var sum = 0.0;
        foreach (var logit in logits)
        {
            sum += Math.Exp(logit - max);
        }

        var logNormalizer = max + Math.Log(sum);
        var count = Math.Min(topCount, logits.Length);
        // Insertion into a sorted list of at most MaxTop entries: O(vocab * topCount), a few microseconds per token.
        var top = new List<(int TokenId, double Logprob)>(count + 1);
        for (var id = 0; id < logits.Length && count > 0; id++)
        {
            var logit = logits[id];
            if (top.Count == count && logit <= logits[top[^1].TokenId])
            {
                continue;
            }

            var at = top.Count;
            while (at > 0 && logits[top[at - 1].TokenId] < logit)
            {
                at--;
            }

            top.Insert(at, (id, logit - logNormalizer));
            if (top.Count > count)
            {
                top.RemoveAt(top.Count - 1);
            }
        }

        return new TokenLogprobs(logits[tokenId] - logNormalizer, top);
    }
}
