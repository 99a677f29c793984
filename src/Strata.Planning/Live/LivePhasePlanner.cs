using Strata.Core.Workload;
using Strata.Planning.Pools;

namespace Strata.Planning.Live;

/// <summary>
/// Plans a phase-split generation over a live snapshot with the simulator's own cluster scheduler: the routing policy
/// picks the best chain of each pool, and <see cref="SplitwiseScheduler"/> decides, over those chains as machines,
/// whether to split them, let the prompt chain decode, or run everything on the token chain.
/// </summary>
/// <remarks>
/// The prompt machine is the routing policy's prefill route, the token machine its decode route (one candidate per
/// pool: the policy has already weighed every server of the pool, so the scheduler's pick of the least loaded machine
/// is over one), their loads the bottleneck of their servers (see <see cref="LiveChainView"/>). An empty pool gives no
/// machine, and the scheduler falls back as it does in the simulator: no prompt chain, the token chain runs the whole
/// request; no token chain, the prompt chain does.
/// </remarks>
public static class LivePhasePlanner
{
    /// <summary>The plan of <paramref name="request"/> (its phase is ignored: both pools are routed) over <paramref name="servers"/>; null when neither pool covers the blocks.</summary>
    /// <param name="servers">The live snapshot.</param>
    /// <param name="request">Blocks, cache per block, prompt and output tokens, servers to avoid.</param>
    /// <param name="policy">The routing policy that picks each pool's chain (empty: <see cref="LiveRouting.DefaultPolicy"/>).</param>
    /// <param name="options">What the policy assumes of unknowns.</param>
    /// <param name="scheduler">The Splitwise scheduler (its thresholds) that decides.</param>
    /// <exception cref="Core.StrataException">The policy name is unknown.</exception>
    public static LivePhasePlan? Plan(IReadOnlyList<LiveServer> servers, LiveRouteRequest request, string? policy, LiveRouteOptions options, SplitwiseScheduler scheduler)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(scheduler);
        var prefill = LiveRouting.Route(servers, request with { Phase = ServerPhase.Prefill }, policy, options);
        var decode = LiveRouting.Route(servers, request with { Phase = ServerPhase.Decode }, policy, options);
        var chains = new List<(LiveRoute Route, MachineRole Role)>(2);
        if (prefill is not null)
        {
            chains.Add((prefill, MachineRole.Prompt));
        }

        if (decode is not null)
        {
            chains.Add((decode, MachineRole.Token));
        }

        if (chains.Count == 0)
        {
            return null;
        }

        var view = new LiveChainView(chains, request.KvBytesPerBlock);
        var decision = scheduler.Route(new InferenceRequest(default, 0, request.PromptTokens, request.OutputTokens), view);
        var (prefillRoute, prefillRole) = chains[decision.PrefillMachine];
        if (decision.Transfers)
        {
            return new LivePhasePlan(prefillRoute, chains[decision.DecodeMachine].Route, PhaseDecision.Split);
        }

        return new LivePhasePlan(prefillRoute, prefillRoute, prefillRole == MachineRole.Token ? PhaseDecision.Mixed : PhaseDecision.PromptDecodes);
    }
}
