using System.Globalization;
using Strata.Simulation.Cluster;

namespace Strata.Cli.Output;

/// <summary>The nine Splitwise Table VI checks of a run in words: one wording for the terminal and for <c>summary.md</c>.</summary>
internal static class SloChecks
{
    /// <summary>How many checks hold: <c>7 of 9 met</c>.</summary>
    public static string Count(SimulationResult result) =>
        string.Create(CultureInfo.InvariantCulture, $"{result.SplitwiseSlo.Count(check => check.Met)} of {result.SplitwiseSlo.Count} met");

    /// <summary>One line per check: <c>TTFT P50 slowdown 0.733x, limit 2x: met</c>.</summary>
    public static IEnumerable<string> Lines(SimulationResult result) =>
        result.SplitwiseSlo.Select(check => string.Create(
            CultureInfo.InvariantCulture,
            $"{check.Metric.ToUpperInvariant()} P{check.Percentile} slowdown {(double.IsFinite(check.Slowdown) ? check.Slowdown.ToString("F3", CultureInfo.InvariantCulture) + "x" : "-")}, limit {check.Limit:G4}x: {(check.Met ? "met" : "missed")}"));
}
