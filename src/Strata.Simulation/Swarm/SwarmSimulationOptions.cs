using Strata.Core;

namespace Strata.Simulation.Swarm;

/// <summary>Options of one swarm simulation run.</summary>
public sealed record SwarmSimulationOptions
{
    /// <summary>Poisson arrival rate, requests per second (&gt; 0).</summary>
    public double RateRequestsPerSecond { get; init; } = 0.1;

    /// <summary>Number of requests (&gt;= 1).</summary>
    public int Requests { get; init; } = 100;

    /// <summary>Seed of arrivals, clients and churn draws.</summary>
    public int Seed { get; init; }

    /// <summary>Churn at given times.</summary>
    public IReadOnlyList<ChurnEvent> Churn { get; init; } = [];

    /// <summary>Failures per second over the whole swarm (0: none); each fails a random live server.</summary>
    public double FailureRatePerSecond { get; init; }

    /// <summary>Seconds after a random failure that the server rejoins (infinity: never).</summary>
    public double RejoinAfterSeconds { get; init; } = double.PositiveInfinity;

    /// <summary>Retries a session makes (PETALS back-off 1, 2, 4, ... s, at most 60 s) before it is reported failed.</summary>
    public int MaxRetries { get; init; } = 10;

    /// <summary>Period of PETALS' rebalancing check while churn happens (PETALS re-checks every 0-240 s).</summary>
    public double RebalancePeriodSeconds { get; init; } = 120;

    /// <summary>Checks ranges.</summary>
    /// <exception cref="StrataException">A value is out of range.</exception>
    public SwarmSimulationOptions Validate()
    {
        if (!(RateRequestsPerSecond > 0) || !double.IsFinite(RateRequestsPerSecond))
        {
            throw new StrataException($"--rate is {RateRequestsPerSecond}; expected a positive number of requests per second.");
        }

        if (Requests < 1)
        {
            throw new StrataException($"--requests is {Requests}; expected at least 1.");
        }

        if (!(FailureRatePerSecond >= 0) || MaxRetries < 0 || !(RebalancePeriodSeconds > 0))
        {
            throw new StrataException("Churn options are out of range; expected a failure rate >= 0, retries >= 0 and a rebalance period > 0.");
        }

        return this;
    }
}
