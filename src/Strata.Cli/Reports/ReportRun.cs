using Strata.Simulation.Cluster;

namespace Strata.Cli.Reports;

/// <summary>One simulation shown in a report: its table row and, when it kept request outcomes, its CDF lines.</summary>
/// <param name="Label">Name in the table and the legends (a design or a scenario entry).</param>
/// <param name="Result">What the run measured; <see cref="SimulationResult.Outcomes"/> feeds the CDFs.</param>
internal sealed record ReportRun(string Label, SimulationResult Result);
