namespace Strata.Core.Identity;

/// <summary>Identifies a model architecture in a catalog (for example <c>llama-2-70b</c>).</summary>
public readonly record struct ModelId(string Value)
{
    /// <inheritdoc />
    public override string ToString() => Value;
}
