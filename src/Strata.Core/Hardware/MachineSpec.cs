using Strata.Core.Identity;
using Strata.Core.Network;

namespace Strata.Core.Hardware;

/// <summary>A machine: N identical devices joined by an interconnect, priced and powered as a unit.</summary>
public sealed record MachineSpec
{
    /// <summary>Catalog id, for example <c>dgx-a100</c>.</summary>
    public required MachineId Id { get; init; }

    /// <summary>Human-readable name.</summary>
    public required string Name { get; init; }

    /// <summary>The device type every slot holds.</summary>
    public required DeviceSpec Device { get; init; }

    /// <summary>Number of devices.</summary>
    public required int DeviceCount { get; init; }

    /// <summary>Device-to-device link (per device, one direction); <see langword="null"/> for a one-device machine.</summary>
    public LinkSpec? Interconnect { get; init; }

    /// <summary>Network interfaces (NICs) that leave the machine, for KV transfers between machines; 0 when the catalog does not say.</summary>
    public int NetworkInterfaceCount { get; init; }

    /// <summary>Speed of one network interface, one direction, in bytes per second; 0 when the catalog does not say.</summary>
    public double NetworkInterfaceBytesPerSecond { get; init; }

    /// <summary>Power of the whole machine.</summary>
    public double PowerWatts { get; init; }

    /// <summary>Price of the whole machine in USD per hour.</summary>
    public double PricePerHour { get; init; }

    /// <summary>Where the numbers come from.</summary>
    public string? Source { get; init; }

    /// <summary>A machine of <paramref name="count"/> devices with the device's own interconnect, power and price.</summary>
    public static MachineSpec Of(DeviceSpec device, int count = 1)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return new MachineSpec
        {
            Id = new MachineId(count == 1 ? device.Id.Value : $"{count}x{device.Id.Value}"),
            Name = count == 1 ? device.Name : $"{count}x {device.Name}",
            Device = device,
            DeviceCount = count,
            Interconnect = count > 1 ? device.Interconnect : null,
            PowerWatts = device.PowerWatts * count,
            PricePerHour = device.PricePerHour * count,
            Source = device.Source,
        };
    }
}
