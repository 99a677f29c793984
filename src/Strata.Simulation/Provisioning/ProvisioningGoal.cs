namespace Strata.Simulation.Provisioning;

/// <summary>What a provisioning search optimises.</summary>
public enum ProvisioningGoal
{
    /// <summary>The cheapest pool split (USD per hour) that serves the target rate within the SLO.</summary>
    MinCost,
    /// <summary>The lowest-power pool split that serves the target rate within the SLO.</summary>
    MinPower,
    /// <summary>The highest rate any split within a cost budget serves within the SLO.</summary>
    MaxRateForCost,
    /// <summary>The highest rate any split within a power budget serves within the SLO.</summary>
    MaxRateForPower,
}
