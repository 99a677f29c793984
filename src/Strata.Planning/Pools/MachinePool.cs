using Strata.Core.Hardware;

namespace Strata.Planning.Pools;

/// <summary>A pool of identical machines with one home role.</summary>
/// <param name="Machine">The machine type.</param>
/// <param name="Count">Machines in the pool, >= 0.</param>
/// <param name="Role">Their home role.</param>
/// <param name="NetworkBandwidthBytesPerSecond">Each machine's network (KV-transfer) bandwidth, one direction.</param>
/// <param name="NetworkLatencySeconds">One-way latency of a KV transfer message.</param>
public sealed record MachinePool(MachineSpec Machine, int Count, MachineRole Role, double NetworkBandwidthBytesPerSecond, double NetworkLatencySeconds = 5e-6);
