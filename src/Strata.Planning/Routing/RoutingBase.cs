using Strata.Planning.Swarm;

namespace Strata.Planning.Routing;

/// <summary>Shared plumbing of the routing policies: one <see cref="HopGraph"/> per placement, rebuilt only when the placement changes.</summary>
/// <remarks>Not thread-safe: one instance per simulation.</remarks>
public abstract class RoutingBase : IRoutingPolicy
{
    private SwarmPlacement? _placement;
    private HopGraph? _graph;

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public abstract SwarmRoute? Route(SwarmInstance instance, SwarmPlacement placement, int client, ISwarmLoad load, double nowSeconds, int firstBlock = 0);

    /// <summary>The hop graph of <paramref name="placement"/>.</summary>
    protected HopGraph Graph(SwarmInstance instance, SwarmPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (!ReferenceEquals(placement, _placement) || _graph is null)
        {
            _graph = new HopGraph(placement, instance.LayerCount);
            _placement = placement;
        }

        return _graph;
    }
}
