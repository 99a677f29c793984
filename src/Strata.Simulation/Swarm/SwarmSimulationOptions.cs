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

    /// <summary>
    /// Paper artefact (off by default): a fixed delay in every request routed by PETALS' routing (the authors' scripts:
    /// 250 s). As in the scripts, the session holds its cache slots through it (it is part of the request's time, which
    /// sets when the slots free).
    /// </summary>
    public double PetalsAllocationDelaySeconds { get; init; }

    /// <summary>Paper artefact (off by default): the same for every request routed by any other policy (the authors' scripts: 60 s).</summary>
    public double ProposedAllocationDelaySeconds { get; init; }

    /// <summary>Paper artefact (off by default): a fixed initial delay in every request, slots held through it (the authors' scripts: 70 ms).</summary>
    public double InitialDelaySeconds { get; init; }

    /// <summary>
    /// Paper artefact (off by default): a session that queued for cache starts at the first retry of PETALS' client
    /// back-off (1, 2, 4, ... s apart, at most 60 s; cumulative 1, 3, 7, 15, ... s after arrival) at or after its slots
    /// free, holding them from then on. The authors' scripts wait this way for every routing policy (WS-RR included);
    /// it applies to sessions that queue (WS-RR, the shortest path, PETALS routing under <see cref="SwarmWaiting.Queue"/>).
    /// </summary>
    public bool RetryScheduleWaits { get; init; }

    /// <summary>
    /// These options with the paper's scripts' artefacts switched on: 250 s / 60 s allocation delays and the 70 ms initial
    /// delay (held in the cache), waits rounded up to PETALS' retry schedule.
    /// </summary>
    public SwarmSimulationOptions WithPaperArtefacts() => this with
    {
        PetalsAllocationDelaySeconds = PaperPetalsAllocationDelaySeconds,
        ProposedAllocationDelaySeconds = PaperProposedAllocationDelaySeconds,
        InitialDelaySeconds = PaperInitialDelaySeconds,
        RetryScheduleWaits = true,
    };

    /// <summary>
    /// The wait PETALS' client back-off turns a wait of <paramref name="waitSeconds"/> into: the first retry at or after
    /// it, retries 1, 2, 4, ... s apart, at most 60 s apart (the authors' <c>WS_RR.m</c> and <c>Petals_online.m</c>).
    /// </summary>
    /// <param name="waitSeconds">Time from arrival until the slots free.</param>
    public static double RetryScheduleSeconds(double waitSeconds)
    {
        if (!(waitSeconds > 0) || !double.IsFinite(waitSeconds))
        {
            return Math.Max(0, waitSeconds);
        }

        double retry = 0;
        for (var n = 0; retry < waitSeconds; n++)
        {
            retry += Math.Min(Math.Pow(2, n), 60);
        }

        return retry;
    }

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
