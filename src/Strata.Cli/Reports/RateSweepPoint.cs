using Strata.Simulation.Cluster;

namespace Strata.Cli.Reports;

/// <summary>One point of a rate sweep: a design simulated at one offered arrival rate.</summary>
/// <param name="Design">Line the point belongs to in the sweep charts.</param>
/// <param name="OfferedRateRequestsPerSecond">Arrival rate the workload was scaled to.</param>
/// <param name="Result">What the run measured at that rate.</param>
internal sealed record RateSweepPoint(string Design, double OfferedRateRequestsPerSecond, SimulationResult Result);
