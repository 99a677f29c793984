namespace Strata.Performance.Profiles;

/// <summary>One measured point of a runtime profile: a size (prompt tokens, context tokens or concurrent sessions) and its median value.</summary>
/// <param name="Size">Prompt tokens, context tokens or sessions.</param>
/// <param name="Value">Seconds per block, or the slowdown factor.</param>
public sealed record RuntimeProfilePoint(int Size, double Value);
