namespace Strata.Core.Scenarios;

/// <summary>How a synthetic workload draws token counts (prompt or output lengths).</summary>
/// <remarks>One of <see cref="FixedLengthSpec"/>, <see cref="UniformLengthSpec"/>, <see cref="LognormalLengthSpec"/>, <see cref="TraceLengthSpec"/>.</remarks>
public abstract record LengthDistributionSpec;
