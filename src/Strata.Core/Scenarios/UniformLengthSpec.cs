namespace Strata.Core.Scenarios;

/// <summary>Token counts drawn uniformly from an inclusive range (<c>{distribution: uniform, min: 1, max: 100}</c>).</summary>
/// <param name="MinTokens">Smallest count, &gt;= 1.</param>
/// <param name="MaxTokens">Largest count, &gt;= <paramref name="MinTokens"/>.</param>
public sealed record UniformLengthSpec(int MinTokens, int MaxTokens) : LengthDistributionSpec;
