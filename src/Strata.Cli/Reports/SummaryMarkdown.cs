using System.Globalization;
using System.Text;
using Strata.Cli.Output;
using Strata.Simulation.Cluster;
using Strata.Simulation.Metrics;

namespace Strata.Cli.Reports;

/// <summary>The report's <c>summary.md</c>: tables of runs and of the rate sweep, links to the charts, and how it was made.</summary>
/// <remarks>Pure text from the inputs: no date, no machine name, <c>\n</c> line ends, invariant culture.</remarks>
internal static class SummaryMarkdown
{
    /// <summary>Header row of the runs table (tests look for it).</summary>
    public const string RunsHeader =
        "| Run | Requests | Completed | Failed | TTFT P50 | TTFT P90 | TTFT P99 | TPOT P50 | TPOT P99 | E2E P50 | E2E P99 | SLO attainment | Goodput (req/s) | Splitwise SLO met | Throughput (req/s) | Cost ($/h) | Power (kW) | Wall (s) |";

    /// <summary>Header row of the sweep table.</summary>
    public const string SweepHeader =
        "| Design | Offered (req/s) | Achieved (req/s) | Completed | TTFT P99 | TPOT P50 | SLO attainment | Goodput (req/s) | Splitwise SLO met |";

    private const string Missing = "–";

    /// <summary>The Markdown text.</summary>
    /// <param name="runs">Runs, in table order.</param>
    /// <param name="sweep">Sweep points, grouped by design as the charts draw them.</param>
    /// <param name="charts">File name (relative to the report folder) and caption of each chart written.</param>
    /// <param name="cdfsSkipped">Whether the CDF charts were left out because no run kept request outcomes.</param>
    public static string Render(IReadOnlyList<ReportRun> runs, IReadOnlyList<(string Design, RateSweepPoint[] Points)> sweep, IReadOnlyList<(string FileName, string Caption)> charts, bool cdfsSkipped)
    {
        var text = new StringBuilder();
        Line(text, "# Strata simulation report");
        Line(text);
        Line(text, "## Runs");
        Line(text);
        if (runs.Count == 0)
        {
            Line(text, "No runs.");
        }
        else
        {
            Line(text, RunsHeader);
            Line(text, "|---|" + string.Concat(Enumerable.Repeat("--:|", 17)));
            foreach (var run in runs)
            {
                var r = run.Result;
                Line(text, Row(
                    Escape(run.Label), Integer(r.Requests), Integer(r.Completed), Integer(r.Failed.Values.Sum()),
                    Latency(r.Ttft, r.Ttft.P50), Latency(r.Ttft, r.Ttft.P90), Latency(r.Ttft, r.Ttft.P99),
                    Latency(r.Tpot, r.Tpot.P50), Latency(r.Tpot, r.Tpot.P99),
                    Latency(r.E2e, r.E2e.P50), Latency(r.E2e, r.E2e.P99),
                    Percent(r.SloAttainment), Number(r.GoodputRequestsPerSecond, "F2"), SplitwiseMet(r),
                    Number(r.ThroughputRequestsPerSecond, "F2"), Number(r.CostPerHour, "F2"), Number(r.PowerWatts / 1e3, "F1"), Number(r.WallSeconds, "F2")));
            }

            FailureReasons(text, runs);
            Line(text);
            Line(text, "## Splitwise SLO checks");
            foreach (var run in runs)
            {
                Line(text);
                Line(text, $"{Escape(run.Label)}: {SloChecks.Count(run.Result)}");
                Line(text);
                foreach (var check in SloChecks.Lines(run.Result))
                {
                    Line(text, "- " + check);
                }
            }
        }

        if (sweep.Count > 0)
        {
            Line(text);
            Line(text, "## Rate sweep");
            Line(text);
            Line(text, SweepHeader);
            Line(text, "|---|" + string.Concat(Enumerable.Repeat("--:|", 8)));
            foreach (var point in sweep.SelectMany(design => design.Points))
            {
                var r = point.Result;
                Line(text, Row(
                    Escape(point.Design), Number(point.OfferedRateRequestsPerSecond, "G6"), Number(r.ThroughputRequestsPerSecond, "F2"),
                    $"{Integer(r.Completed)} of {Integer(r.Requests)}", Latency(r.Ttft, r.Ttft.P99), Latency(r.Tpot, r.Tpot.P50),
                    Percent(r.SloAttainment), Number(r.GoodputRequestsPerSecond, "F2"), SplitwiseMet(r)));
            }
        }

        Line(text);
        Line(text, "## Charts");
        Line(text);
        if (cdfsSkipped)
        {
            Line(text, "No run kept per-request outcomes, so the TTFT and E2E CDFs are not drawn.");
            Line(text);
        }

        if (charts.Count == 0)
        {
            Line(text, "No charts.");
            Line(text);
        }

        foreach (var (fileName, caption) in charts)
        {
            Line(text, $"![{caption}]({fileName})");
            Line(text);
        }

        Line(text, "## How this was produced");
        Line(text);
        Line(text, "Written by `strata simulate --report` from the simulation results alone, so the same inputs give the same report.");
        Line(text, "Latencies are from each run's summaries (exact percentiles, or within 0.5% relative where the simulator sketched them);");
        Line(text, "the CDFs plot every completed request's TTFT and E2E, with a log time axis when the values span more than two decades.");
        Line(text, "TPOT is (E2E - TTFT) / (output tokens - 1) per request. SLO attainment and goodput use the run's absolute SLO;");
        Line(text, "throughput and goodput are both per second of the same window (first arrival to the later of last arrival and last completion), so goodput never exceeds throughput;");
        Line(text, "\"Splitwise SLO met\" counts the nine Splitwise Table VI slowdown checks (TTFT, TBT, E2E at P50/P90/P99) that hold.");
        Line(text, "Wall seconds are the time the simulation itself took on the machine that ran it.");
        return text.ToString();
    }

    private static void FailureReasons(StringBuilder text, IReadOnlyList<ReportRun> runs)
    {
        var failing = runs.Where(run => run.Result.Failed.Values.Sum() > 0).ToArray();
        if (failing.Length == 0)
        {
            return;
        }

        Line(text);
        Line(text, "Failed requests by reason:");
        Line(text);
        foreach (var run in failing)
        {
            var reasons = run.Result.Failed.Where(pair => pair.Value > 0).OrderBy(pair => pair.Key, StringComparer.Ordinal)
                .Select(pair => $"{Escape(pair.Key)} {Integer(pair.Value)}");
            Line(text, $"- {Escape(run.Label)}: {string.Join(", ", reasons)}");
        }
    }

    private static string Row(params string[] cells) => "| " + string.Join(" | ", cells) + " |";

    private static string Latency(LatencySummary summary, double seconds) =>
        summary.Count == 0 || !double.IsFinite(seconds) ? Missing : Units.Seconds(seconds);

    private static string SplitwiseMet(SimulationResult result) => SloChecks.Count(result);

    private static string Percent(double fraction) => double.IsFinite(fraction) ? Units.Percent(fraction * 100) : Missing;

    private static string Integer(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Number(double value, string format) =>
        double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : Missing;

    /// <summary>Keeps a label from breaking the table: pipes escaped, line breaks as spaces.</summary>
    private static string Escape(string label) =>
        label.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal)
            .Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static void Line(StringBuilder text, string line = "") => text.Append(line).Append('\n');
}
