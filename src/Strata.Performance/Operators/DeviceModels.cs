using System.Collections.Concurrent;
using Strata.Core.Catalogs;
using Strata.Core.Hardware;
using Strata.Performance.Calibration;
using Strata.Performance.Profiles;

namespace Strata.Performance.Operators;

/// <summary>The built-in fits behind <see cref="DeviceModel"/>: operator parameters per profiled GPU, serving overhead per measured device.</summary>
/// <remarks>Fitted on first use from the embedded Vidur and Splitwise data, then cached (thread-safe).</remarks>
public static class DeviceModels
{
    private static readonly ConcurrentDictionary<string, DeviceFit> ParameterFits = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, (ServingOverhead Overhead, double RmsLogError, int Rows)> OverheadFits = new(StringComparer.Ordinal);

    /// <summary>The operator parameters of a profiled GPU, fitted on every model the built-in profiles have for it.</summary>
    public static DeviceFit Parameters(string gpu) =>
        ParameterFits.GetOrAdd(gpu, g => DeviceFitter.Fit(OperatorProfileTable.BuiltIn.RowsOn(g), ProfiledDevices.Rates(g, Catalog.BuiltIn)));

    /// <summary>The serving overhead for <paramref name="device"/>: fitted on its own Splitwise rows when it has some, else on those of its profiled GPU.</summary>
    /// <returns>The overhead, the Splitwise hardware it was fitted on, the fit's rms log error and the rows used.</returns>
    public static (ServingOverhead Overhead, string FittedOn, double RmsLogError, int Rows) Overhead(DeviceSpec device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var hardware = HasSplitwiseRows(device.Id.Value) ? device.Id.Value : ProfiledDevices.Device(ProfiledDevices.For(device).Gpu, Catalog.BuiltIn).Id.Value;
        var fit = OverheadFits.GetOrAdd(hardware, FitOverhead);
        return (fit.Overhead, hardware, fit.RmsLogError, fit.Rows);
    }

    /// <summary>The device model of <paramref name="deployment"/> and a sentence naming every fitted term it uses.</summary>
    public static (DeviceModel Model, string Source) For(Deployment deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var (gpu, measured) = ProfiledDevices.For(deployment.Device);
        var parameters = Parameters(gpu);
        var overhead = Overhead(deployment.Device);
        var node = ProfiledDevices.SharesNode(deployment.Device, gpu);
        var model = new DeviceModel(deployment, parameters.Parameters, overhead.Overhead, node ? CollectiveProfileTable.BuiltIn : null, node ? ProfiledDevices.Cluster(gpu) : null);
        var p = parameters.Parameters;
        var o = overhead.Overhead;
        var source = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"operators from {gpu} parameters fitted on {parameters.Models.Count} models' Vidur profiles{(measured ? "" : $" (this device has no profiles: efficiencies transferred relative to its datasheet peaks)")} "
            + $"(GEMM eff. {p.GemmPeakEfficiency:F2}, M/N/K half {p.GemmHalfRows:F0}/{p.GemmHalfColumns:F0}/{p.GemmHalfDepth:F0}, GEMM mem. eff. {p.GemmMemoryEfficiency:F2}, launch {p.GemmLaunchSeconds * 1e6:F1} us; "
            + $"element-wise mem. eff. {p.ElementwiseMemoryEfficiency:F2}, launch {p.ElementwiseLaunchSeconds * 1e6:F1} us); "
            + $"all-reduce {(deployment.TensorParallel == 1 ? "none (one device)" : model.MeasuredAllReduce ? $"from NCCL profiles ({ProfiledDevices.Cluster(gpu)}, {deployment.TensorParallel} GPUs)" : "from the link's datasheet numbers")}; "
            + $"serving overhead {o.LayerSeconds * 1e6:F0} us/layer + {o.SequenceSeconds * 1e3:F3} ms/sequence, attention eff. {o.AttentionEfficiency:F2} and large-step loss {o.LargeStepPenalty:F2} at {o.LargeStepKneeTokens:F0} tokens fitted on {overhead.Rows} Splitwise rows of {overhead.FittedOn}");
        return (model, source);
    }

    private static bool HasSplitwiseRows(string deviceId) =>
        ProfileTable.BuiltIn.Keys.Any(key => ProfileKey.Normalize(key.Hardware) == ProfileKey.Normalize(deviceId));

    private static (ServingOverhead, double, int) FitOverhead(string hardware)
    {
        var table = ProfileTable.BuiltIn;
        var (kept, _) = ProfileScreening.Screen(table.Rows);
        var rows = new List<(Deployment, ProfileRow)>();
        foreach (var key in table.Keys.Where(key => ProfileKey.Normalize(key.Hardware) == ProfileKey.Normalize(hardware)))
        {
            if (HoldoutValidation.Resolve(key, Catalog.BuiltIn) is { } deployment)
            {
                rows.AddRange(kept.Where(row => row.Key == key).Select(row => (deployment, row)));
            }
        }

        var device = Catalog.BuiltIn.Device(hardware);
        var gpu = ProfiledDevices.For(device).Gpu;
        var node = ProfiledDevices.SharesNode(device, gpu);
        var (overhead, rms) = ServingOverheadFitter.Fit(rows, Parameters(gpu).Parameters, node ? CollectiveProfileTable.BuiltIn : null, node ? ProfiledDevices.Cluster(gpu) : null);
        return (overhead, rms, rows.Count);
    }
}
