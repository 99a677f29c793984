namespace Strata.Performance.Profiles;

/// <summary>One measured NCCL collective: its median time for one message size on one group of GPUs.</summary>
/// <param name="Cluster">Where it was measured, as the profiles name it (<c>a100_dgx</c>, <c>h100_pairwise_nvlink</c>).</param>
/// <param name="Collective"><c>all_reduce</c> or <c>send_recv</c>.</param>
/// <param name="Workers">GPUs in the collective.</param>
/// <param name="DevicesPerNode">GPUs of the collective on each node (equal to <see cref="Workers"/> within one node).</param>
/// <param name="SizeBytes">Message size.</param>
/// <param name="Seconds">Median time.</param>
/// <param name="Line">Line in the source file, for messages.</param>
public readonly record struct CollectiveProfileRow(string Cluster, string Collective, int Workers, int DevicesPerNode, long SizeBytes, double Seconds, int Line);
