using System.Text;
using Strata.Core;
using Strata.Simulation.Cluster;

namespace Strata.Cli.Reports;

/// <summary>Writes the report of <c>strata simulate --report DIR</c>: latency CDFs, rate-sweep charts and <c>summary.md</c>.</summary>
/// <remarks>
/// The same inputs give byte-identical <c>summary.md</c> (no date, nothing random). Files already in the folder with
/// other names are left alone; files with these names are overwritten.
/// </remarks>
internal static class SimulationReport
{
    /// <summary>CDF of time to first token of each run.</summary>
    public const string TtftCdfFile = "ttft-cdf.png";

    /// <summary>CDF of end-to-end latency of each run.</summary>
    public const string E2eCdfFile = "e2e-cdf.png";

    /// <summary>Goodput against offered rate per design (only with a sweep).</summary>
    public const string ThroughputFile = "goodput-vs-rate.png";

    /// <summary>P99 TTFT and P50 TPOT against offered rate per design (only with a sweep).</summary>
    public const string LatencyFile = "latency-vs-rate.png";

    /// <summary>The Markdown summary, linking the charts.</summary>
    public const string SummaryFile = "summary.md";

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Creates <paramref name="directory"/> if needed and writes the report into it.</summary>
    /// <param name="directory">Report folder; created with its parents.</param>
    /// <param name="runs">Runs for the summary table; those with <c>Outcomes</c> also get CDF lines (completed requests only).</param>
    /// <param name="sweep">Rate-sweep points; empty leaves out the sweep table and both sweep charts.</param>
    /// <returns>Full paths of the files written, charts first and <see cref="SummaryFile"/> last.</returns>
    /// <exception cref="StrataException">The folder cannot be created or a file in it cannot be written.</exception>
    public static IReadOnlyList<string> Write(string directory, IReadOnlyList<ReportRun> runs, IReadOnlyList<RateSweepPoint> sweep)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(sweep);

        var folder = CreateFolder(directory);
        var written = new List<string>();
        var charts = new List<(string FileName, string Caption)>();

        var withOutcomes = runs.Where(run => run.Result.Outcomes is not null).ToArray();
        if (withOutcomes.Length > 0)
        {
            var ttft = withOutcomes.Select(run => (run.Label, (IReadOnlyList<double>)Completed(run, outcome => outcome.TtftSeconds))).ToArray();
            var e2e = withOutcomes.Select(run => (run.Label, (IReadOnlyList<double>)Completed(run, outcome => outcome.E2eSeconds))).ToArray();
            Save(folder, TtftCdfFile, ReportCharts.Cdf("Time to first token: CDF", "TTFT", ttft), written);
            charts.Add((TtftCdfFile, "CDF of time to first token"));
            Save(folder, E2eCdfFile, ReportCharts.Cdf("End-to-end latency: CDF", "E2E latency", e2e), written);
            charts.Add((E2eCdfFile, "CDF of end-to-end latency"));
        }

        // Designs in the order they first appear, each design's points by offered rate: the charts and table agree.
        var designs = sweep
            .GroupBy(point => point.Design, StringComparer.Ordinal)
            .Select(group => (Design: group.Key, Points: group.OrderBy(point => point.OfferedRateRequestsPerSecond).ToArray()))
            .ToArray();
        if (designs.Length > 0)
        {
            Save(folder, ThroughputFile, ReportCharts.GoodputVersusRate(designs), written);
            charts.Add((ThroughputFile, "Goodput (requests/s meeting the SLO) vs offered rate"));
            Save(folder, LatencyFile, ReportCharts.LatencyVersusRate(designs), written);
            charts.Add((LatencyFile, "P99 TTFT and P50 TPOT vs offered rate"));
        }

        var summary = SummaryMarkdown.Render(runs, designs, charts, cdfsSkipped: runs.Count > 0 && withOutcomes.Length == 0);
        Save(folder, SummaryFile, Utf8NoBom.GetBytes(summary), written);
        return written;
    }

    private static double[] Completed(ReportRun run, Func<RequestOutcome, double> seconds) =>
        [.. run.Result.Outcomes!.Where(outcome => outcome.Completed).Select(seconds)];

    internal static string CreateFolder(string directory)
    {
        var path = directory;
        try
        {
            path = Path.GetFullPath(directory);
            Directory.CreateDirectory(path);
            return path;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new StrataException($"Cannot create the report folder '{path}': {ex.Message} Pass --report a folder you can write to.", ex);
        }
    }

    internal static void Save(string folder, string fileName, byte[] contents, List<string> written)
    {
        var path = Path.Combine(folder, fileName);
        try
        {
            File.WriteAllBytes(path, contents);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new StrataException($"Cannot write the report file '{path}': {ex.Message} Pass --report a folder you can write to.", ex);
        }

        written.Add(path);
    }

}
