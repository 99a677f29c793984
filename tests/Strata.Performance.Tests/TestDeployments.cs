using Strata.Core.Hardware;
using Strata.Core.Identity;
using Strata.Core.Models;
using Strata.Core.Network;

namespace Strata.Performance.Tests;

/// <summary>Deployments with round numbers, for hand-checked arithmetic.</summary>
internal static class TestDeployments
{
    /// <summary>1 TFLOP/s fp32, 100 GB/s, 1 GiB, NVLink-like 10 GB/s and 1 µs link.</summary>
    public static DeviceSpec RoundDevice { get; } = new()
    {
        Id = new DeviceId("round"),
        Name = "Round numbers",
        Kind = DeviceKind.Gpu,
        MemoryBytes = 1L << 30,
        MemoryBandwidthBytesPerSecond = 1e11,
        PeakFlopsPerSecond = new Dictionary<Precision, double> { [Precision.Fp32] = 1e12, [Precision.Fp16] = 4e12 },
        Interconnect = new LinkSpec(1e-6, 1e10, "test link"),
    };

    public static ModelArchitecture Tiny => Core.Catalogs.Catalog.BuiltIn.Model("tiny-llama-test");

    public static Deployment TinyOnRound(int tensorParallel = 1, Precision precision = Precision.Fp32) =>
        new(Tiny, MachineSpec.Of(RoundDevice, tensorParallel), precision);

    public static Deployment Catalog(string model, string device, int tensorParallel, Precision precision = Precision.Fp16) =>
        new(Core.Catalogs.Catalog.BuiltIn.Model(model), MachineSpec.Of(Core.Catalogs.Catalog.BuiltIn.Device(device), tensorParallel), precision);
}
