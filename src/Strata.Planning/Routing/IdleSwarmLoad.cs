namespace Strata.Planning.Routing;

/// <summary>An empty swarm: every server up, every slot free.</summary>
public sealed class IdleSwarmLoad : ISwarmLoad
{
    /// <summary>The one instance.</summary>
    public static IdleSwarmLoad Instance { get; } = new();

    /// <inheritdoc />
    public bool IsAlive(int server) => true;

    /// <inheritdoc />
    public int FreeSlots(int server) => int.MaxValue;

    /// <inheritdoc />
    public double SlotsFreeAtSeconds(int server, int slots, double nowSeconds) => nowSeconds;
}
