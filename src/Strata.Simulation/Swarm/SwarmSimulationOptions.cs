using Strata.Core;

namespace Strata.Simulation.Swarm;

/// <summary>Options of one swarm simulation run.</summary>
public sealed record SwarmSimulationOptions
{
    /// <summary>The authors' per-request allocation delay for PETALS.</summary>
    public const double PaperPetalsAllocationDelaySeconds = 250;

    /// <summary>The authors' per-request allocation delay for CG-BP + WS-RR.</summary>
    public const double PaperProposedAllocationDelaySeconds = 60;

    /// <summary>The authors' initial delay per request.</summary>
    public const double PaperInitialDelaySeconds = 0.070;

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

    /// <summary>How sessions routed by PETALS' routing wait for cache (default: as PETALS does, fail and retry).</summary>
    public SwarmWaiting Waiting { get; init; } = SwarmWaiting.Petals;

    /// <summary>Period at which servers announce their free cache to clients (PETALS' <c>update_period</c>, 60 s); 0: clients see the live state.</summary>
    public double AnnouncePeriodSeconds { get; init; } = 60;

    /// <summary>First ban of a server after a failed allocation (PETALS' <c>ban_timeout</c>, 15 s), doubled for each further failure in a row.</summary>
    public double BanSeconds { get; init; } = 15;

    /// <summary>Paper artefact (off by default): a fixed delay added to every request routed by PETALS' routing (the authors' scripts: 250 s).</summary>
    public double PetalsAllocationDelaySeconds { get; init; }

    /// <summary>Paper artefact (off by default): a fixed delay added to every request routed by any other policy (the authors' scripts: 60 s).</summary>
    public double ProposedAllocationDelaySeconds { get; init; }

    /// <summary>Paper artefact (off by default): a fixed initial delay added to every request (the authors' scripts: 70 ms).</summary>
    public double InitialDelaySeconds { get; init; }

    /// <summary>These options with the paper's scripts' constants switched on: 250 s / 60 s allocation delays and the 70 ms initial delay.</summary>
    public SwarmSimulationOptions WithPaperArtefacts() => this with
    {
        PetalsAllocationDelaySeconds = PaperPetalsAllocationDelaySeconds,
        ProposedAllocationDelaySeconds = PaperProposedAllocationDelaySeconds,
        InitialDelaySeconds = PaperInitialDelaySeconds,
    };

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

        if (!(AnnouncePeriodSeconds >= 0) || !double.IsFinite(AnnouncePeriodSeconds) || !(BanSeconds >= 0) || !double.IsFinite(BanSeconds))
        {
            throw new StrataException($"--announce-period is {AnnouncePeriodSeconds} s and the ban {BanSeconds} s; expected finite numbers >= 0.");
        }

        if (!(PetalsAllocationDelaySeconds >= 0) || !(ProposedAllocationDelaySeconds >= 0) || !(InitialDelaySeconds >= 0))
        {
            throw new StrataException("The paper's artefact delays must be >= 0 seconds.");
        }

        return this;
    }
}
