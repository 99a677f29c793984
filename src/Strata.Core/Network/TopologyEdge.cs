namespace Strata.Core.Network;

/// <summary>One directed edge of a <see cref="TopologyGraph"/>.</summary>
/// <param name="Source">Index of the node the edge leaves.</param>
/// <param name="Target">Index of the node the edge enters.</param>
/// <param name="DelaySeconds">One-way propagation delay.</param>
/// <param name="BandwidthBytesPerSecond">Bandwidth of the edge.</param>
public readonly record struct TopologyEdge(int Source, int Target, double DelaySeconds, double BandwidthBytesPerSecond);
