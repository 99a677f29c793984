namespace Strata.Planning.Live;

/// <summary>A phase-split generation's plan: the route that prefills, the route that decodes, and the decision that chose them.</summary>
/// <param name="Prefill">The route that runs the prompt.</param>
/// <param name="Decode">The route that runs the output tokens: the same route as <paramref name="Prefill"/> unless the decision is <see cref="PhaseDecision.Split"/>.</param>
/// <param name="Decision">Splitwise's decision.</param>
public sealed record LivePhasePlan(LiveRoute Prefill, LiveRoute Decode, PhaseDecision Decision)
{
    /// <summary>Whether the KV cache moves from the prefill route to the decode route.</summary>
    public bool Transfers => Decision == PhaseDecision.Split;
}
