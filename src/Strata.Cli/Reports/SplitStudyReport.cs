using System.Globalization;
using System.Text;
using Strata.Simulation.SplitServing;

namespace Strata.Cli.Reports;

/// <summary>Writes the report of <c>strata split study --report DIR</c>: server load, highest rate, split per client, summary.md.</summary>
internal static class SplitStudyReport
{
    /// <summary>Server load per request relative to all-on-server, per planner.</summary>
    public const string LoadFile = "server-load.png";

    /// <summary>Highest rate with the target SLA attainment, per planner.</summary>
    public const string ThroughputFile = "max-rate.png";

    /// <summary>Mean client layers per client population, per planner.</summary>
    public const string SplitFile = "split-per-client.png";

    /// <summary>The Markdown summary.</summary>
    public const string SummaryFile = "summary.md";

    /// <summary>Creates <paramref name="directory"/> if needed and writes the report; returns the paths written.</summary>
    public static IReadOnlyList<string> Write(string directory, string title, SplitStudyResult result)
    {
        var folder = SimulationReport.CreateFolder(directory);
        var written = new List<string>();
        SimulationReport.Save(folder, LoadFile, ReportCharts.GroupedBars("Server load per request", "Share of all-on-server FLOPs", ["server load"],
            [.. result.Planners.Select(p => (p.Planner, new[] { p.ServerLoadVsAllServer }))]), written);
        SimulationReport.Save(folder, ThroughputFile, ReportCharts.GroupedBars("Highest rate within the SLA", "Requests per second", ["max rate"],
            [.. result.Planners.Select(p => (p.Planner, new[] { p.MaxRateRequestsPerSecond }))]), written);
        var clients = result.Planners.Count > 0 ? result.Planners[0].Clients.Select(c => c.ClientId).ToArray() : [];
        SimulationReport.Save(folder, SplitFile, ReportCharts.GroupedBars("Layers on the client, per client population", "Mean client layers", clients,
            [.. result.Planners.Select(p => (p.Planner, p.Clients.Select(c => c.MeanClientLayers).ToArray()))]), written);

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# Split study: {title}\n\n");
        text.Append(CultureInfo.InvariantCulture, $"{result.Requests:N0} requests at {result.RateRequestsPerSecond:G4} req/s.\n\n");
        text.Append("| Planner | Server load vs all-on-server | Server s / request | SLA attainment | E2E P50 | E2E P99 | Max rate (req/s) | Infeasible |\n");
        text.Append("|---|--:|--:|--:|--:|--:|--:|--:|\n");
        foreach (var p in result.Planners)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"| {p.Planner} | {p.ServerLoadVsAllServer:P1} | {p.MeanServerSecondsPerRequest:F3} | {p.SlaAttainment:P1} | {p.E2e.P50:F2} s | {p.E2e.P99:F2} s | {Rate(p.MaxRateRequestsPerSecond)} | {p.InfeasiblePlans} |\n");
        }

        text.Append("\n| Planner | Client | Requests | Mean client layers | Infeasible |\n|---|---|--:|--:|--:|\n");
        foreach (var p in result.Planners)
        {
            foreach (var c in p.Clients)
            {
                text.Append(CultureInfo.InvariantCulture, $"| {p.Planner} | {c.ClientId} | {c.Requests} | {c.MeanClientLayers:F1} | {c.InfeasiblePlans} |\n");
            }
        }

        text.Append(CultureInfo.InvariantCulture, $"\n![Server load]({LoadFile})\n\n![Highest rate]({ThroughputFile})\n\n![Split per client]({SplitFile})\n");
        SimulationReport.Save(folder, SummaryFile, new UTF8Encoding(false).GetBytes(text.ToString()), written);
        return written;
    }

    private static string Rate(double rate) => double.IsPositiveInfinity(rate) ? "unbounded" : rate.ToString("F3", CultureInfo.InvariantCulture);
}
