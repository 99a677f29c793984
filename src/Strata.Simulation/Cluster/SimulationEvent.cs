namespace Strata.Simulation.Cluster;

/// <summary>What an event does.</summary>
internal enum SimulationEventKind : byte
{
    /// <summary>A machine's iteration ends; target = machine.</summary>
    IterationDone,
    /// <summary>A request's KV cache has arrived at its decode machine; target = request.</summary>
    TransferDone,
}

/// <summary>A scheduled event: 8 bytes, no allocation.</summary>
internal readonly record struct SimulationEvent(SimulationEventKind Kind, int Target);

/// <summary>Where a request is in its life.</summary>
internal enum RequestState : byte
{
    NotArrived,
    Queued,
    Prefilling,
    Transferring,
    Decoding,
    Done,
    Failed,
}
