namespace Strata.Planning.Routing;

/// <summary>Edge costs of the hop graph a shortest-path search runs over.</summary>
public interface IHopCost
{
    /// <summary>Cost of entering <paramref name="server"/> from <paramref name="previous"/> (-1: the client) to run <paramref name="blockCount"/> blocks there.</summary>
    double Enter(int previous, int server, int blockCount);

    /// <summary>Whether <see cref="Enter"/> ignores <c>previous</c> (hub-and-spoke): then the search keeps one best path per end block, O(V L) instead of O(E).</summary>
    bool IgnoresPrevious { get; }

    /// <summary>Cost of returning from the last server <paramref name="last"/> to the client.</summary>
    double Exit(int last);
}
