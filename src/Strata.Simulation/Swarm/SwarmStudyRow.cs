using Strata.Planning.Placement;

namespace Strata.Simulation.Swarm;

/// <summary>One placement x routing pair of a swarm study: the plan and the simulated outcome.</summary>
/// <param name="Placement">Placement policy name.</param>
/// <param name="Routing">Routing policy name.</param>
/// <param name="Plan">The placement and what the policy said about it.</param>
/// <param name="PlanSeconds">Wall time the placement took (not deterministic; left out of determinism checks).</param>
/// <param name="Result">The simulation.</param>
public sealed record SwarmStudyRow(string Placement, string Routing, PlacementResult Plan, double PlanSeconds, SwarmSimulationResult Result);
