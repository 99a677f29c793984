namespace Strata.Simulation.Swarm;

/// <summary>A server joining, leaving or failing at a given time.</summary>
/// <param name="TimeSeconds">When, in simulated seconds from the first arrival window's start.</param>
/// <param name="Server">Server index.</param>
/// <param name="Kind">What happens.</param>
public readonly record struct ChurnEvent(double TimeSeconds, int Server, ChurnKind Kind);
