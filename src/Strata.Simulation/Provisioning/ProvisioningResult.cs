namespace Strata.Simulation.Provisioning;

/// <summary>The outcome of a provisioning search.</summary>
/// <param name="Design">Design searched.</param>
/// <param name="Goal">What was optimised.</param>
/// <param name="Best">The best candidate, or null when none met the SLO.</param>
/// <param name="Candidates">Every candidate evaluated, in a stable order.</param>
/// <param name="Simulations">Simulations run in all.</param>
/// <param name="WallSeconds">Wall-clock time of the search.</param>
public sealed record ProvisioningResult(string Design, ProvisioningGoal Goal, ProvisioningCandidate? Best, IReadOnlyList<ProvisioningCandidate> Candidates, int Simulations, double WallSeconds);
