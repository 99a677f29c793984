using Strata.Core;
using Strata.Core.Placement;
using Strata.Runtime.Coordination;
using WireDecision = Strata.Runtime.Protocol.PhaseDecision;

namespace Strata.Runtime.Tests.Coordination;

public sealed class PhaseDecisionsTests
{
    [Theory]
    [InlineData(Planning.Live.PhaseDecision.Split)]
    [InlineData(Planning.Live.PhaseDecision.PromptDecodes)]
    [InlineData(Planning.Live.PhaseDecision.Mixed)]
    public void Every_decision_comes_back_from_its_wire_form(Planning.Live.PhaseDecision decision) =>
        Assert.Equal(decision, PhaseDecisions.FromWire(PhaseDecisions.ToWire(decision), new BlockRange(0, 4)));

    [Theory]
    [InlineData(WireDecision.Unspecified)]
    [InlineData((WireDecision)42)]
    public void An_unspecified_or_unknown_decision_from_a_coordinator_is_refused_not_taken_for_a_split(WireDecision decision)
    {
        var error = Assert.Throws<StrataException>(() => PhaseDecisions.FromWire(decision, new BlockRange(2, 6)));
        Assert.Contains("PlanPhases", error.Message, StringComparison.Ordinal);
        Assert.Contains(decision.ToString(), error.Message, StringComparison.Ordinal);
    }
}
