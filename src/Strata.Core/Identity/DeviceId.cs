namespace Strata.Core.Identity;

/// <summary>Identifies a device type in a catalog (for example <c>a100-80gb</c>).</summary>
public readonly record struct DeviceId(string Value)
{
    /// <inheritdoc />
    public override string ToString() => Value;
}
