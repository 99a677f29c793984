namespace Strata.Planning.Routing;

/// <summary>What a routing policy may know about the swarm's current load: free cache slots and when busy ones free up.</summary>
/// <remarks>The simulator implements it over its live state; <see cref="IdleSwarmLoad"/> is an empty swarm.</remarks>
public interface ISwarmLoad
{
    /// <summary>Whether <paramref name="server"/> is up.</summary>
    bool IsAlive(int server);

    /// <summary>Cache slots free at <paramref name="server"/> now.</summary>
    int FreeSlots(int server);

    /// <summary>Earliest time at which <paramref name="slots"/> slots are free at <paramref name="server"/>, releasing open sessions in order of expected completion (<c>t_w</c>); +infinity if never.</summary>
    /// <remarks>Open sessions are the running ones and the routed-but-waiting ones: a request routed earlier has committed its slots and counts ahead of a newcomer, holding them until its own expected release.</remarks>
    double SlotsFreeAtSeconds(int server, int slots, double nowSeconds);

    /// <summary>Cache slots free at <paramref name="server"/> as it last announced them (PETALS clients route on announced, not live, state); by default the live count.</summary>
    int AnnouncedFreeSlots(int server) => FreeSlots(server);

    /// <summary>Whether <paramref name="client"/> has banned <paramref name="server"/> at <paramref name="nowSeconds"/> after a failed request (PETALS' client blacklist); by default never.</summary>
    bool IsBanned(int client, int server, double nowSeconds) => false;
}
