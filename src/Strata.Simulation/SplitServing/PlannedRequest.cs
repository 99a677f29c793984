namespace Strata.Simulation.SplitServing;

/// <summary>One request under one planner's split: arrival, the alternation of local time and server work, its SLA.</summary>
/// <param name="ArrivalSeconds">Arrival at the study's base rate.</param>
/// <param name="LocalSeconds">
/// Time spent off the server before each server segment and after the last one: client compute plus transfers
/// (<c>ServerSeconds.Length + 1</c> entries).
/// </param>
/// <param name="ServerSeconds">Server work of each server segment, alone on the server.</param>
/// <param name="SlaSeconds">End-to-end SLA of the request (less the client's LM head, as the planner saw it).</param>
internal sealed record PlannedRequest(double ArrivalSeconds, double[] LocalSeconds, double[] ServerSeconds, double SlaSeconds);
