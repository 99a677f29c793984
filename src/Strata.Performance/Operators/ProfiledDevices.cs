using Strata.Core;
using Strata.Core.Catalogs;
using Strata.Core.Hardware;
using Strata.Core.Models;

namespace Strata.Performance.Operators;

/// <summary>How the GPUs named in the operator and NCCL profiles map to catalog devices.</summary>
public static class ProfiledDevices
{
    private static readonly Dictionary<string, string> CatalogIds = new(StringComparer.Ordinal)
    {
        ["a100"] = "a100-80gb",
        ["h100"] = "h100-80gb",
    };

    /// <summary>The profiled GPUs Strata knows, as the profiles name them.</summary>
    public static IReadOnlyCollection<string> Gpus => CatalogIds.Keys;

    /// <summary>The catalog device a profiled GPU was (Vidur profiles A100 80GB SXM and H100 80GB SXM).</summary>
    /// <exception cref="StrataException">The GPU is not one Strata can map.</exception>
    public static DeviceSpec Device(string gpu, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return CatalogIds.TryGetValue(gpu, out var id)
            ? catalog.Device(id)
            : throw new StrataException($"Operator profiles name GPU '{gpu}'; expected one of {string.Join(", ", CatalogIds.Keys)}.");
    }

    /// <summary>The fp16 rates of a profiled GPU.</summary>
    public static DeviceRates Rates(string gpu, Catalog catalog)
    {
        var device = Device(gpu, catalog);
        return new DeviceRates(device.PeakFlopsFor(Precision.Fp16), device.MemoryBandwidthBytesPerSecond);
    }

    /// <summary>Whether the device is (a variant of, such as power-capped) the profiled GPU's own part, so its node's NCCL profiles apply.</summary>
    public static bool SharesNode(DeviceSpec device, string gpu)
    {
        ArgumentNullException.ThrowIfNull(device);
        return CatalogIds.TryGetValue(gpu, out var id) && device.Id.Value.StartsWith(id, StringComparison.Ordinal);
    }

    /// <summary>The NCCL profile cluster of one node of the GPU (<c>a100_dgx</c>).</summary>
    public static string Cluster(string gpu) => gpu + "_dgx";

    /// <summary>The profiled GPU whose parameters a catalog device uses: itself if profiled, else the nearest by architecture.</summary>
    /// <returns>The profiled GPU and whether the device itself was profiled.</returns>
    public static (string Gpu, bool Measured) For(DeviceSpec device)
    {
        ArgumentNullException.ThrowIfNull(device);
        foreach (var (gpu, id) in CatalogIds)
        {
            if (device.Id.Value == id)
            {
                return (gpu, true);
            }
        }

        // Hopper parts (H100 variants, H200) use the H100 parameters; everything else the A100's, as efficiencies
        // relative to the device's own datasheet peaks.
        var hopper = device.Id.Value.StartsWith("h100", StringComparison.Ordinal) || device.Id.Value.StartsWith("h200", StringComparison.Ordinal);
        return (hopper ? "h100" : "a100", false);
    }
}
