namespace Strata.Core.Network;

/// <summary>A network link or device interconnect: a fixed latency plus bytes over bandwidth.</summary>
/// <param name="LatencySeconds">One-way latency of a message.</param>
/// <param name="BandwidthBytesPerSecond">Sustained bandwidth in one direction.</param>
/// <param name="Name">What the link is (NVLink 3, PCIe 4 x16, 5G, ...), for display.</param>
public sealed record LinkSpec(double LatencySeconds, double BandwidthBytesPerSecond, string? Name = null)
{
    /// <summary>Time to move <paramref name="bytes"/> over the link when nothing else uses it.</summary>
    public double TransferSeconds(double bytes) => LatencySeconds + bytes / BandwidthBytesPerSecond;

    /// <summary>Checks the numbers are finite and in range.</summary>
    /// <exception cref="StrataException">Latency is negative or bandwidth is not positive.</exception>
    public LinkSpec Validate(string origin)
    {
        if (!double.IsFinite(LatencySeconds) || LatencySeconds < 0)
        {
            throw new StrataException($"{origin}: latencySeconds is {LatencySeconds}; expected a finite number >= 0.");
        }

        if (!double.IsFinite(BandwidthBytesPerSecond) || BandwidthBytesPerSecond <= 0)
        {
            throw new StrataException($"{origin}: bandwidthBytesPerSecond is {BandwidthBytesPerSecond}; expected a finite number > 0.");
        }

        return this;
    }
}
