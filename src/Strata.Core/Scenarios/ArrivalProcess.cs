namespace Strata.Core.Scenarios;

/// <summary>How a synthetic workload spaces its arrivals.</summary>
public enum ArrivalProcess
{
    /// <summary>Exponential inter-arrival times (a Poisson process).</summary>
    Poisson,
    /// <summary>Gamma inter-arrival times with a given squared coefficient of variation (burstiness).</summary>
    Gamma,
}
