using System.Globalization;

namespace Strata.Cli.Output;

/// <summary>Human-readable numbers for tables: seconds as ms or s, bytes as GiB/MiB/KiB, FLOP/s as TFLOP/s.</summary>
internal static class Units
{
    public static string Seconds(double seconds) => seconds switch
    {
        double.NaN => "-",
        0 => "0",
        < 1e-3 => string.Create(CultureInfo.InvariantCulture, $"{seconds * 1e6:F0} µs"),
        < 1 => string.Create(CultureInfo.InvariantCulture, $"{seconds * 1e3:F1} ms"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{seconds:F2} s"),
    };

    public static string Bytes(double bytes) => bytes switch
    {
        >= 1L << 40 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1L << 40):F2} TiB"),
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1L << 30):F1} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1L << 20):F1} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1L << 10):F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes:F0} B"),
    };

    public static string Rate(double perSecond, string unit) =>
        string.Create(CultureInfo.InvariantCulture, $"{perSecond:F1} {unit}/s");

    public static string Flops(double flopsPerSecond) =>
        string.Create(CultureInfo.InvariantCulture, $"{flopsPerSecond / 1e12:G4} TFLOP/s");

    /// <summary>A FLOP count with its unit: 4.454 TFLOP, 812 GFLOP.</summary>
    public static string Flop(double flop) => flop switch
    {
        double.NaN => "-",
        >= 1e15 => string.Create(CultureInfo.InvariantCulture, $"{flop / 1e15:G4} PFLOP"),
        >= 1e12 => string.Create(CultureInfo.InvariantCulture, $"{flop / 1e12:G4} TFLOP"),
        >= 1e9 => string.Create(CultureInfo.InvariantCulture, $"{flop / 1e9:G4} GFLOP"),
        >= 1e6 => string.Create(CultureInfo.InvariantCulture, $"{flop / 1e6:G4} MFLOP"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{flop:G4} FLOP"),
    };

    public static string Count(double value) => value switch
    {
        >= 1e9 => string.Create(CultureInfo.InvariantCulture, $"{value / 1e9:F1}B"),
        >= 1e6 => string.Create(CultureInfo.InvariantCulture, $"{value / 1e6:F1}M"),
        >= 1e3 => string.Create(CultureInfo.InvariantCulture, $"{value / 1e3:F1}k"),
        _ => value.ToString(CultureInfo.InvariantCulture),
    };

    public static string Percent(double percent) => double.IsNaN(percent) ? "-" : string.Create(CultureInfo.InvariantCulture, $"{percent:F1}%");
}
