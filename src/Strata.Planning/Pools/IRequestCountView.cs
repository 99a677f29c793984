namespace Strata.Planning.Pools;

/// <summary>A cluster view that also counts each machine's requests in flight (routed there and not finished), for token-JSQ.</summary>
public interface IRequestCountView : IClusterView
{
    /// <summary>Requests the machine holds: queued, prefilling, transferring in or decoding.</summary>
    int RequestsInFlight(int machine);
}
