namespace Strata.Simulation.Swarm;

/// <summary>Kinds of swarm simulation events.</summary>
internal enum SwarmEventKind
{
    Arrival,
    Completion,
    Retry,
    Fail,
    Leave,
    Join,
    RandomFailure,
    Rebalance,
    Announce,
}
