namespace Strata.Core.Identity;

/// <summary>Identifies one server (a machine instance) in a cluster or swarm.</summary>
public readonly record struct ServerId(int Value)
{
    /// <inheritdoc />
    public override string ToString() => $"server-{Value}";
}
