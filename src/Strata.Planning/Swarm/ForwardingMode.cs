namespace Strata.Planning.Swarm;

/// <summary>How activations travel between the servers of a path.</summary>
public enum ForwardingMode
{
    /// <summary>Client relay (the paper's model, PETALS 1.x): the client relays between consecutive servers, every hop is a client round trip.</summary>
    HubAndSpoke,
    /// <summary>Server-to-server push (PETALS 2.x's default, <c>rpc_push</c>): each server pushes to the next; the last one answers the client.</summary>
    Direct,
}
