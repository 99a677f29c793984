using Strata.Core.Identity;
using Strata.Core.Models;
using Strata.Core.Network;

namespace Strata.Core.Hardware;

/// <summary>One accelerator or processor type: its peaks, memory, power and price.</summary>
public sealed record DeviceSpec
{
    /// <summary>Catalog id, for example <c>a100-80gb</c>.</summary>
    public required DeviceId Id { get; init; }

    /// <summary>Human-readable name.</summary>
    public required string Name { get; init; }

    /// <summary>GPU, MIG slice, CPU, phone or edge box.</summary>
    public required DeviceKind Kind { get; init; }

    /// <summary>Memory usable for weights, KV cache and activations.</summary>
    public required long MemoryBytes { get; init; }

    /// <summary>Peak memory bandwidth.</summary>
    public required double MemoryBandwidthBytesPerSecond { get; init; }

    /// <summary>Dense peak FLOP/s per compute precision (no sparsity).</summary>
    public required IReadOnlyDictionary<Precision, double> PeakFlopsPerSecond { get; init; }

    /// <summary>Board power (TDP/TGP).</summary>
    public double PowerWatts { get; init; }

    /// <summary>Typical on-demand price in USD per hour (0 for client devices).</summary>
    public double PricePerHour { get; init; }

    /// <summary>Link between devices of this type inside one machine (NVLink, PCIe), if any.</summary>
    public LinkSpec? Interconnect { get; init; }

    /// <summary>Where the numbers come from.</summary>
    public string? Source { get; init; }

    /// <summary>Assumptions behind the numbers.</summary>
    public string? Notes { get; init; }

    /// <summary>Peak FLOP/s for matrix products on weights of <paramref name="precision"/>.</summary>
    /// <remarks>
    /// Quantized weights compute in 16-bit (<see cref="PrecisionInfo.ComputePrecision"/>); a precision the
    /// device lacks falls back to its 16-bit, then fp32 figure.
    /// </remarks>
    public double PeakFlopsFor(Precision precision)
    {
        var compute = PrecisionInfo.ComputePrecision(precision);
        ReadOnlySpan<Precision> order = compute switch
        {
            Precision.Bf16 => [Precision.Bf16, Precision.Fp16, Precision.Fp32],
            Precision.Fp16 => [Precision.Fp16, Precision.Bf16, Precision.Fp32],
            _ => [Precision.Fp32],
        };
        foreach (var candidate in order)
        {
            if (PeakFlopsPerSecond.TryGetValue(candidate, out var flops) && flops > 0)
            {
                return flops;
            }
        }

        throw new StrataException($"Device '{Id}' has no peak FLOP/s for {PrecisionInfo.Name(compute)} (nor a fallback); add it to the device catalog.");
    }
}
