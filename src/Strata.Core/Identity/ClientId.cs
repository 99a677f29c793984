namespace Strata.Core.Identity;

/// <summary>Identifies a client: the party that sends requests and receives tokens.</summary>
public readonly record struct ClientId(int Value)
{
    /// <inheritdoc />
    public override string ToString() => $"client-{Value}";
}
