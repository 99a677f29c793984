namespace Strata.Simulation.SplitServing;

/// <summary>How one planner split the requests of one client population.</summary>
/// <param name="ClientId">The population's id.</param>
/// <param name="Requests">Requests it sent.</param>
/// <param name="MeanClientLayers">Mean number of layers its requests ran on the client.</param>
/// <param name="MeanServerFlopsPerRequest">Mean server FLOPs of its requests.</param>
/// <param name="InfeasiblePlans">Requests for which no split met the SLA (served all on the server).</param>
public sealed record SplitClientOutcome(string ClientId, int Requests, double MeanClientLayers, double MeanServerFlopsPerRequest, int InfeasiblePlans);
