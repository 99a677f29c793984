namespace Strata.Core.Scenarios;

/// <summary>Token counts sampled from the lengths recorded in a trace (<c>{fromTrace: conv}</c>).</summary>
/// <param name="Trace">The trace to sample from.</param>
public sealed record TraceLengthSpec(TraceSource Trace) : LengthDistributionSpec;
