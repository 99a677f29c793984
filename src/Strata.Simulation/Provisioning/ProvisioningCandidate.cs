namespace Strata.Simulation.Provisioning;

/// <summary>One pool split the search evaluated.</summary>
/// <param name="PromptMachines">Prompt machines (0 for a baseline design).</param>
/// <param name="TokenMachines">Token machines (0 for a baseline design).</param>
/// <param name="Machines">Machines of a baseline design (prompt + token for a Splitwise one).</param>
/// <param name="CostPerHour">Cluster price, USD per hour.</param>
/// <param name="PowerWatts">Cluster provisioned power.</param>
/// <param name="RateRequestsPerSecond">The rate it was judged at (the target, or the highest found).</param>
/// <param name="MeetsSlo">Whether it met the SLO at that rate.</param>
/// <param name="Simulations">Simulations spent on it.</param>
public sealed record ProvisioningCandidate(int PromptMachines, int TokenMachines, int Machines, double CostPerHour, double PowerWatts, double RateRequestsPerSecond, bool MeetsSlo, int Simulations);
