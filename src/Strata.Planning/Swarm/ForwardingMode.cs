namespace Strata.Planning.Swarm;

/// <summary>How activations travel between the servers of a path.</summary>
public enum ForwardingMode
{
    /// <summary>PETALS: the client relays between consecutive servers, every hop is a client round trip.</summary>
    HubAndSpoke,
    /// <summary>Each server pushes to the next; the last one answers the client.</summary>
    Direct,
}
