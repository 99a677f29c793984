namespace Strata.Core.Identity;

/// <summary>Identifies one inference request.</summary>
public readonly record struct RequestId(long Value)
{
    /// <inheritdoc />
    public override string ToString() => $"request-{Value}";
}
