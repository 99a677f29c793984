namespace Strata.Performance;

/// <summary>What one iteration (forward pass) of a batch computes: prompt tokens being prefilled and requests decoding one token.</summary>
/// <remarks>
/// A summary, not a list, so that costing a step allocates nothing. Attention cost needs per-request context,
/// which is kept as sums: <see cref="PrefillAttentionPairs"/> (query-key pairs of prompt tokens) and
/// <see cref="DecodeContextTokens"/> (KV tokens every decoding request attends to). Shapes add with <c>+</c>.
/// </remarks>
/// <param name="PrefillRequests">Requests with prompt tokens in this step.</param>
/// <param name="PrefillTokens">Prompt tokens computed in this step.</param>
/// <param name="PrefillContextTokens">KV tokens those prompts attend to: their own tokens plus any already cached.</param>
/// <param name="PrefillAttentionPairs">Causal query-key pairs of the prompt tokens: n(n+1)/2 + n c per prompt of n new and c cached tokens.</param>
/// <param name="DecodeRequests">Requests generating one token in this step.</param>
/// <param name="DecodeContextTokens">Sum over decoding requests of the tokens each attends to (its context including the new token).</param>
public readonly record struct BatchShape(
    int PrefillRequests,
    long PrefillTokens,
    long PrefillContextTokens,
    double PrefillAttentionPairs,
    int DecodeRequests,
    long DecodeContextTokens)
{
    /// <summary>Tokens that run through the network in this step.</summary>
    public long Tokens => PrefillTokens + DecodeRequests;

    /// <summary>Sequences in this step.</summary>
    public int Sequences => PrefillRequests + DecodeRequests;

    /// <summary>Whether the step computes nothing.</summary>
    public bool IsEmpty => Tokens == 0;

    /// <summary><paramref name="requests"/> prompts of <paramref name="promptTokens"/> new tokens each, after <paramref name="cachedTokens"/> cached ones.</summary>
    public static BatchShape Prefill(int requests, int promptTokens, int cachedTokens = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(requests);
        ArgumentOutOfRangeException.ThrowIfNegative(promptTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(cachedTokens);
        var pairs = promptTokens * (promptTokens + 1.0) / 2.0 + (double)promptTokens * cachedTokens;
        return new BatchShape(requests, (long)requests * promptTokens, (long)requests * (promptTokens + cachedTokens), requests * pairs, 0, 0);
    }

    /// <summary><paramref name="requests"/> decoding requests, each attending to <paramref name="contextTokens"/> tokens.</summary>
    public static BatchShape Decode(int requests, int contextTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(requests);
        ArgumentOutOfRangeException.ThrowIfNegative(contextTokens);
        return new BatchShape(0, 0, 0, 0, requests, (long)requests * contextTokens);
    }

    /// <summary>The two shapes run as one mixed batch.</summary>
    public static BatchShape operator +(BatchShape left, BatchShape right) => new(
        left.PrefillRequests + right.PrefillRequests,
        left.PrefillTokens + right.PrefillTokens,
        left.PrefillContextTokens + right.PrefillContextTokens,
        left.PrefillAttentionPairs + right.PrefillAttentionPairs,
        left.DecodeRequests + right.DecodeRequests,
        left.DecodeContextTokens + right.DecodeContextTokens);
}
