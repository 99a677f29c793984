using Strata.Runtime.Sampling;

namespace Strata.Runtime.Engine;

/// <summary>One sampled token, with its log-probabilities when they were asked for (<see cref="GenerationOptions.TopLogprobs"/>).</summary>
/// <param name="TokenId">The token id.</param>
/// <param name="Logprobs">Its log-probability and the top alternatives, or null when not asked for.</param>
public readonly record struct GeneratedToken(int TokenId, TokenLogprobs? Logprobs);
