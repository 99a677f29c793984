using Strata.Core.Workload;

namespace Strata.Planning.Pools;

/// <summary>Baseline routing: each request to the next machine in turn, both phases on it.</summary>
public sealed class RoundRobinScheduler : IClusterScheduler
{
    private int _next;

    /// <inheritdoc />
    public string Name => "round-robin";

    /// <inheritdoc />
    public RouteDecision Route(in InferenceRequest request, IClusterView cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var machine = _next;
        _next = (_next + 1) % cluster.MachineCount;
        return new RouteDecision(machine, machine);
    }
}
