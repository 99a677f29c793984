namespace Strata.Core.Identity;

/// <summary>Identifies a machine type (N devices and their interconnect) in a catalog.</summary>
public readonly record struct MachineId(string Value)
{
    /// <inheritdoc />
    public override string ToString() => Value;
}
