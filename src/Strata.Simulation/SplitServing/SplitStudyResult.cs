namespace Strata.Simulation.SplitServing;

/// <summary>The outcome of a <see cref="SplitStudy"/>: one entry per planner, on the same requests.</summary>
/// <param name="RateRequestsPerSecond">The study rate (SLA attainment is measured at it).</param>
/// <param name="Requests">Requests in the study.</param>
/// <param name="Planners">One outcome per planner, in the order asked.</param>
/// <param name="WallSeconds">Wall-clock time of the whole study.</param>
public sealed record SplitStudyResult(double RateRequestsPerSecond, int Requests, IReadOnlyList<SplitPlannerOutcome> Planners, double WallSeconds);
