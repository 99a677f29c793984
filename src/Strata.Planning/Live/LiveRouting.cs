using Strata.Planning.Routing;

namespace Strata.Planning.Live;

/// <summary>Routes over a live snapshot with a <see cref="RoutingPolicies">routing policy</see> of the planner, after the pool filter of the request's phase.</summary>
/// <remarks>
/// A prefill (decode) route takes servers of the prefill (decode) pool and both-phase servers. A whole-generation route
/// takes both-phase servers, and servers of either phase pool only when those cannot cover the blocks (a phase server
/// was set aside for one phase, but serves rather than leave a gap). Excluded servers (found dead or full by the client)
/// never serve.
/// </remarks>
public static class LiveRouting
{
    /// <summary>The policy used when none is named: WS-RR, the one that prices both the request's time and the wait for cache.</summary>
    public const string DefaultPolicy = "ws-rr";

    /// <summary>The route of <paramref name="request"/> over <paramref name="servers"/> with the policy named <paramref name="policy"/> (empty: <see cref="DefaultPolicy"/>); null when the eligible servers leave a gap.</summary>
    /// <exception cref="Core.StrataException">The policy name is unknown.</exception>
    public static LiveRoute? Route(IReadOnlyList<LiveServer> servers, LiveRouteRequest request, string? policy, LiveRouteOptions options)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(request);
        var name = string.IsNullOrEmpty(policy) ? DefaultPolicy : policy;
        var route = Route(servers, request, name, options, s => s.Serves(request.Phase));
        return route is null && request.Phase == ServerPhase.Both ? Route(servers, request, name, options, _ => true) : route;
    }

    /// <summary>The snapshot a route of <paramref name="request"/> is chosen over: the servers of its pool that are not excluded (null when none overlaps the blocks).</summary>
    public static LiveSwarm? Snapshot(IReadOnlyList<LiveServer> servers, LiveRouteRequest request, LiveRouteOptions options, Func<LiveServer, bool> inPool)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(inPool);
        var eligible = servers
            .Where(s => inPool(s) && !request.Excluded.Contains(s.Id) && s.Blocks.Overlaps(request.Blocks))
            .ToArray();
        return eligible.Length == 0 ? null : new LiveSwarm(eligible, request, options);
    }

    private static LiveRoute? Route(IReadOnlyList<LiveServer> servers, LiveRouteRequest request, string policy, LiveRouteOptions options, Func<LiveServer, bool> inPool) =>
        Snapshot(servers, request, options, inPool)?.Route(RoutingPolicies.Create(policy));
}
