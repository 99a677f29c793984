namespace Strata.Simulation.Swarm;

/// <summary>How a session routed by PETALS' routing waits when a server of its path has no free cache.</summary>
/// <remarks>WS-RR and the shortest path always queue: their path cost is the expected wait in that queue.</remarks>
public enum SwarmWaiting
{
    /// <summary>
    /// As PETALS does: the allocation fails at once (<c>alloc_timeout</c> 0 in <c>handler.py</c>), the client bans that
    /// server (15 s, doubling with each failure in a row) and retries after 0, 1, 2, 4, ... s, at most 60 s
    /// (<c>get_retry_delay</c>), routing again on what servers last announced.
    /// </summary>
    Petals,

    /// <summary>Exact queueing: the session keeps its path and starts as soon as every hop has its slots.</summary>
    Queue,
}
