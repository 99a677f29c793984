using Strata.Core;
using Strata.Runtime.Sampling;

namespace Strata.Runtime.Engine;

/// <summary>What one generation should produce.</summary>
public sealed record GenerationOptions
{
    /// <summary>Most tokens to generate after the prompt. Range: at least 1.</summary>
    public int MaxNewTokens { get; init; } = 32;

    /// <summary>How each token is chosen (default greedy).</summary>
    public SamplingOptions Sampling { get; init; } = SamplingOptions.Greedy;

    /// <summary>Tokens that end the generation when sampled (kept in the output); empty to always run to <see cref="MaxNewTokens"/>.</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>Alternatives to report with each token's log-probability (0 to <see cref="TokenLogprobs.MaxTop"/>); null (the default) computes no log-probabilities.</summary>
    public int? TopLogprobs { get; init; }

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="StrataException">A value is out of range.</exception>
    public GenerationOptions Validate()
    {
        if (MaxNewTokens < 1)
        {
            throw new StrataException($"--max-tokens is {MaxNewTokens}; expected at least 1.");
        }

        if (TopLogprobs is < 0 or > TokenLogprobs.MaxTop)
        {
            throw new StrataException($"top_logprobs is {TopLogprobs}; expected between 0 and {TokenLogprobs.MaxTop}.");
        }

        Sampling.Validate();
        return this;
    }
}
