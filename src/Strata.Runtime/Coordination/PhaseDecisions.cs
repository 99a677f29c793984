using Strata.Core;
using Strata.Core.Placement;
using WireDecision = Strata.Runtime.Protocol.PhaseDecision;

namespace Strata.Runtime.Coordination;

/// <summary>Converts a phase plan's decision between <see cref="Planning.Live.PhaseDecision"/> and its wire form.</summary>
internal static class PhaseDecisions
{
    /// <summary>The wire form of <paramref name="decision"/>.</summary>
    public static WireDecision ToWire(Planning.Live.PhaseDecision decision) => decision switch
    {
        Planning.Live.PhaseDecision.Split => WireDecision.Split,
        Planning.Live.PhaseDecision.PromptDecodes => WireDecision.PromptDecodes,
        Planning.Live.PhaseDecision.Mixed => WireDecision.Mixed,
        _ => throw new ArgumentOutOfRangeException(nameof(decision), decision, "Not a phase decision."),
    };

    /// <summary>The decision a coordinator sent for <paramref name="blocks"/>.</summary>
    /// <exception cref="StrataException">The decision is unspecified or unknown (a newer or broken coordinator).</exception>
    public static Planning.Live.PhaseDecision FromWire(WireDecision decision, BlockRange blocks) => decision switch
    {
        WireDecision.Split => Planning.Live.PhaseDecision.Split,
        WireDecision.PromptDecodes => Planning.Live.PhaseDecision.PromptDecodes,
        WireDecision.Mixed => Planning.Live.PhaseDecision.Mixed,
        _ => throw new StrataException(
            $"The coordinator answered PlanPhases for blocks {blocks} with the phase decision {decision}; expected SPLIT, PROMPT_DECODES or MIXED."),
    };
}
