namespace Strata.Core.Scenarios;

/// <summary>Every request has the same token count (<c>{fixed: 512}</c>, or just <c>512</c>).</summary>
/// <param name="Tokens">The token count, &gt;= 1.</param>
public sealed record FixedLengthSpec(int Tokens) : LengthDistributionSpec;
