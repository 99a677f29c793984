namespace Strata.Simulation.Swarm;

/// <summary>One event: what, on which session or server, and the session version it was scheduled for (lazy cancellation).</summary>
internal readonly record struct SwarmEvent(SwarmEventKind Kind, int Target, int Version);
