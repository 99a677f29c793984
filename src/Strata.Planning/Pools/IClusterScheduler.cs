using Strata.Core.Workload;

namespace Strata.Planning.Pools;

/// <summary>A cluster-level scheduler: picks the machines of each request when it arrives.</summary>
/// <remarks>Implementations may keep state (a round-robin cursor) and are not thread-safe; one instance per run.</remarks>
public interface IClusterScheduler
{
    /// <summary>Short name for reports.</summary>
    string Name { get; }

    /// <summary>Chooses the prefill and decode machines of <paramref name="request"/>.</summary>
    RouteDecision Route(in InferenceRequest request, IClusterView cluster);
}
