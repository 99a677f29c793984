using Strata.Planning.Placement;
using Strata.Planning.Routing;
using Strata.Planning.Swarm;
using Strata.Simulation.Engine;

namespace Strata.Simulation.Swarm;

/// <summary>
/// Discrete-event simulation of a PETALS-style swarm: sessions hold cache slots on every server of their path for their
/// lifetime and wait when a hop has none free; the prefill then the decode steps run along the path (Sun et al.'s
/// time model, no compute contention); servers fail, leave and join; clients back off, re-route and replay.
/// </summary>
/// <remarks>
/// <para>Arrivals are Poisson with clients drawn uniformly, from <see cref="SwarmSimulationOptions.Seed"/> alone, so
/// every placement x routing pair sees the same requests. A request is routed on arrival (the routing policy sees the
/// live load through <see cref="ISwarmLoad"/>) and waits, in arrival order, until every hop has its slots.</para>
/// <para>On a failure the hops before the failed one keep their cache; the client backs off (1, 2, 4, ... s, at most
/// 60 s), routes the remaining blocks from the failed hop's first block, and replays the prompt and the tokens so far
/// through the new hops. The placement reacts: PETALS servers rebalance (joins take the weakest window, periodic checks
/// with the 0.75 rule); CG-BP and the MILP re-plan the live servers with CG-BP, R chosen from the load. Servers whose
/// range changes drop their sessions, which re-route as after a clean leave. Nothing is lost: every request completes
/// or fails with a reason (retries exhausted, blocks no live server hosts, or slots that never freed).</para>
/// </remarks>
public sealed partial class SwarmSimulator
{
    private readonly SwarmInstance _instance;
    private readonly IPlacementPolicy _placementPolicy;
    private readonly IRoutingPolicy _routing;
    private readonly SwarmSimulationOptions _options;
    private readonly EventQueue<SwarmEvent> _events = new();
    private readonly List<SwarmSession> _sessions = [];
    private readonly List<SwarmSession> _pending = [];
    private readonly List<SwarmSession>[] _holders;
    private readonly int[] _freeSlots;
    private readonly int[] _capacity;
    private readonly bool[] _alive;
    private readonly int[] _announced;
    private readonly Dictionary<(int Client, int Server), (double Until, int Failures)> _bans = [];
    private readonly bool _petalsWaiting;
    private readonly double _artefactDelaySeconds;
    private readonly LoadView _load;
    private SwarmPlacement _placement;
    private int _replans;
    private double _now;

    /// <summary>Prepares a run of <paramref name="placement"/> (as <paramref name="placementPolicy"/> planned it) with <paramref name="routing"/>.</summary>
    public SwarmSimulator(SwarmInstance instance, SwarmPlacement placement, IPlacementPolicy placementPolicy, IRoutingPolicy routing, SwarmSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(placement);
        ArgumentNullException.ThrowIfNull(placementPolicy);
        ArgumentNullException.ThrowIfNull(routing);
        ArgumentNullException.ThrowIfNull(options);
        _instance = instance;
        _placement = placement;
        _placementPolicy = placementPolicy;
        _routing = routing;
        _options = options.Validate();
        var n = instance.Servers.Count;
        _holders = new List<SwarmSession>[n];
        _freeSlots = new int[n];
        _capacity = new int[n];
        _alive = new bool[n];
        _announced = new int[n];
        _petalsWaiting = options.Waiting == SwarmWaiting.Petals && routing is PetalsRouting;
        _artefactDelaySeconds = (routing is PetalsRouting ? options.PetalsAllocationDelaySeconds : options.ProposedAllocationDelaySeconds) + options.InitialDelaySeconds;
        for (var j = 0; j < n; j++)
        {
            _holders[j] = [];
            _alive[j] = true;
        }

        foreach (var churn in options.Churn.Where(c => c.Kind == ChurnKind.Join))
        {
            // A server whose first event is a join starts outside the swarm.
            if (options.Churn.Where(c => c.Server == churn.Server).MinBy(c => c.TimeSeconds).Kind == ChurnKind.Join)
            {
                _alive[churn.Server] = false;
            }
        }

        SetCapacities();
        Array.Copy(_freeSlots, _announced, n);
        _load = new LoadView(this);
    }

    /// <summary>Runs to the last event and reports every request.</summary>
    public SwarmSimulationResult Run()
    {
        var random = new Random(_options.Seed);
        double arrival = 0;
        for (var r = 0; r < _options.Requests; r++)
        {
            arrival += -Math.Log(1 - random.NextDouble()) / _options.RateRequestsPerSecond;
            var session = new SwarmSession { Request = r, Client = random.Next(_instance.Clients.Count), ArrivalSeconds = arrival };
            _sessions.Add(session);
            _events.Enqueue(arrival, new SwarmEvent(SwarmEventKind.Arrival, r, 0));
        }

        foreach (var churn in _options.Churn.OrderBy(c => c.TimeSeconds).ThenBy(c => c.Server))
        {
            _events.Enqueue(churn.TimeSeconds, new SwarmEvent(Kind(churn.Kind), churn.Server, 0));
        }

        if (_options.FailureRatePerSecond > 0)
        {
            var churnRandom = new Random(unchecked((_options.Seed * 7919) + 13));
            double t = 0;
            while (true)
            {
                t += -Math.Log(1 - churnRandom.NextDouble()) / _options.FailureRatePerSecond;
                if (t > arrival)
                {
                    break;
                }

                _events.Enqueue(t, new SwarmEvent(SwarmEventKind.RandomFailure, churnRandom.Next(_instance.Servers.Count), 0));
            }
        }

        if (_options.Churn.Count > 0 || _options.FailureRatePerSecond > 0)
        {
            _events.Enqueue(_options.RebalancePeriodSeconds, new SwarmEvent(SwarmEventKind.Rebalance, 0, 0));
        }

        if (_options.AnnouncePeriodSeconds > 0)
        {
            _events.Enqueue(_options.AnnouncePeriodSeconds, new SwarmEvent(SwarmEventKind.Announce, 0, 0));
        }

        while (_events.TryDequeue(out var time, out var e))
        {
            _now = time;
            Handle(e);
            var period = e.Kind switch
            {
                SwarmEventKind.Rebalance => _options.RebalancePeriodSeconds,
                SwarmEventKind.Announce => _options.AnnouncePeriodSeconds,
                _ => 0,
            };
            if (period > 0 && _sessions.Any(s => !s.Done) && _events.Count > 0)
            {
                _events.Enqueue(_now + period, e);
            }
        }

        foreach (var session in _sessions.Where(s => !s.Done))
        {
            Release(session);
            Fail(session, session.Hops.Count > 0 ? "waited for cache slots that never freed" : "no route");
        }

        long held = 0;
        for (var j = 0; j < _capacity.Length; j++)
        {
            held += _capacity[j] - _freeSlots[j];
        }

        var outcomes = _sessions.Select(s => new SwarmRequestOutcome(
            s.Request, s.Client, s.ArrivalSeconds, s.FirstStartSeconds, s.FirstTokenSeconds, s.CompletionSeconds,
            _instance.OutputTokens, s.Retries, s.FailureReason, s.FirstRouteCostSeconds)).ToArray();
        return new SwarmSimulationResult(outcomes, held, _replans) { FirstRoutes = [.. _sessions.Select(s => s.FirstHops)] };
    }

    private static SwarmEventKind Kind(ChurnKind kind) => kind switch
    {
        ChurnKind.Fail => SwarmEventKind.Fail,
        ChurnKind.Leave => SwarmEventKind.Leave,
        _ => SwarmEventKind.Join,
    };

    private void Handle(SwarmEvent e)
    {
        switch (e.Kind)
        {
            case SwarmEventKind.Arrival:
                RouteAndQueue(_sessions[e.Target], firstBlock: 0);
                break;
            case SwarmEventKind.Retry:
                if (_sessions[e.Target].Version == e.Version && !_sessions[e.Target].Done)
                {
                    var session = _sessions[e.Target];
                    session.Hops = [.. session.Hops.Take(session.HeldHops)];
                    RouteAndQueue(session, NextBlock(session));
                }

                break;
            case SwarmEventKind.Completion:
                Complete(_sessions[e.Target], e.Version);
                break;
            case SwarmEventKind.Fail:
            case SwarmEventKind.Leave:
                ServerDown(e.Target, backOff: e.Kind == SwarmEventKind.Fail);
                break;
            case SwarmEventKind.RandomFailure:
                if (_alive[e.Target])
                {
                    ServerDown(e.Target, backOff: true);
                    if (double.IsFinite(_options.RejoinAfterSeconds))
                    {
                        _events.Enqueue(_now + _options.RejoinAfterSeconds, new SwarmEvent(SwarmEventKind.Join, e.Target, 0));
                    }
                }

                break;
            case SwarmEventKind.Join:
                ServerUp(e.Target);
                break;
            case SwarmEventKind.Rebalance:
                Rebalance();
                break;
            case SwarmEventKind.Announce:
                Array.Copy(_freeSlots, _announced, _freeSlots.Length);
                break;
        }

        TryStartPending();
    }

    private void RouteAndQueue(SwarmSession session, int firstBlock)
    {
        // Hops [0, HeldHops) are kept; the rest is routed anew from firstBlock.
        var route = _routing.Route(_instance, _placement, session.Client, _load, _now, firstBlock);
        if (route is null || route.Hops.Any(h => _capacity[h.Server] < h.Blocks.Count))
        {
            BackOff(session, route is null ? $"no live server path covers blocks {firstBlock}..{_instance.LayerCount - 1}" : "the path needs more cache slots than a server has");
            return;
        }

        if (double.IsNaN(session.FirstRouteCostSeconds))
        {
            session.FirstRouteCostSeconds = route.CostSeconds;
            session.FirstHops = route.Hops;
        }

        // Commit the route: until it starts, the session counts ahead of later arrivals in the load view, holding its
        // slots from the moment every hop has room (as the load is now) for the whole request.
        var startSeconds = _now;
        foreach (var hop in route.Hops)
        {
            startSeconds = Math.Max(startSeconds, _load.SlotsFreeAtSeconds(hop.Server, hop.Blocks.Count, _now));
        }

        session.Hops = [.. session.Hops.Take(session.HeldHops), .. route.Hops];
        session.ReplayFrom = session.HeldHops;
        session.ExpectedReleaseSeconds = startSeconds + IdleSeconds(session, startSeconds, queued: !_petalsWaiting) + PathRequestSeconds(session);
        if (_petalsWaiting)
        {
            AllocateOrRetry(session, route);
            return;
        }

        session.Pending = true;
        _pending.Add(session);
    }

    /// <summary>
    /// PETALS' allocation: the servers of the path open the session in order, each failing at once when it lacks the
    /// slots; the client bans the first that failed and retries after 0, 1, 2, 4, ... s (at most 60 s). It holds
    /// nothing while it backs off (PETALS keeps the spans opened before the failing one: a simplification).
    /// </summary>
    private void AllocateOrRetry(SwarmSession session, SwarmRoute route)
    {
        var failed = route.Hops.FirstOrDefault(h => !_alive[h.Server] || _freeSlots[h.Server] < h.Blocks.Count);
        if (failed == default)
        {
            foreach (var hop in route.Hops)
            {
                _bans.Remove((session.Client, hop.Server));
            }

            session.AllocationFailures = 0;
            Start(session, queued: false);
            return;
        }

        var key = (session.Client, failed.Server);
        var failures = (_bans.TryGetValue(key, out var ban) ? ban.Failures : 0) + 1;
        _bans[key] = (_now + (_options.BanSeconds * Math.Pow(2, failures - 1)), failures);
        session.Hops = [.. session.Hops.Take(session.HeldHops)];
        var delay = session.AllocationFailures == 0 ? 0 : Math.Min(60, Math.Pow(2, session.AllocationFailures - 1));
        session.AllocationFailures++;
        session.Version++;
        _events.Enqueue(_now + delay, new SwarmEvent(SwarmEventKind.Retry, session.Request, session.Version));
    }

    /// <summary>Prefill plus decode steps along the session's whole path (the expected holding time of its slots).</summary>
    private double PathRequestSeconds(SwarmSession session)
    {
        double seconds = 0;
        var previous = -1;
        foreach (var hop in session.Hops)
        {
            seconds += _instance.HopRequestSeconds(session.Client, previous, hop.Server, hop.Blocks.Count);
            previous = hop.Server;
        }

        return seconds + (previous >= 0 ? _instance.ExitRequestSeconds(session.Client, previous) : 0);
    }

    private void BackOff(SwarmSession session, string reason)
    {
        if (session.Retries >= _options.MaxRetries)
        {
            Release(session);
            Fail(session, $"gave up after {session.Retries} retries: {reason}");
            return;
        }

        var delay = Math.Min(60, Math.Pow(2, session.Retries));
        session.Retries++;
        session.Version++;
        _events.Enqueue(_now + delay, new SwarmEvent(SwarmEventKind.Retry, session.Request, session.Version));
    }

    private void TryStartPending()
    {
        for (var p = 0; p < _pending.Count; p++)
        {
            var session = _pending[p];
            var fits = true;
            for (var h = session.HeldHops; h < session.Hops.Count && fits; h++)
            {
                var hop = session.Hops[h];
                fits = _alive[hop.Server] && _freeSlots[hop.Server] >= hop.Blocks.Count;
            }

            if (!fits)
            {
                continue;
            }

            session.Pending = false;
            _pending.RemoveAt(p--);
            Start(session, queued: true);
        }
    }

    /// <summary>
    /// The paper's artefacts between a session taking its slots at <paramref name="startSeconds"/> and its first work
    /// (zero unless switched on, and only on its first start): the scripts' allocation and initial delays, and for a
    /// session that <paramref name="queued"/>, the rest of the wait up to the next retry of PETALS' back-off schedule.
    /// </summary>
    private double IdleSeconds(SwarmSession session, double startSeconds, bool queued)
    {
        if (!double.IsNaN(session.FirstStartSeconds))
        {
            return 0;
        }

        var delay = _artefactDelaySeconds;
        var waited = startSeconds - session.ArrivalSeconds;
        if (queued && _options.RetryScheduleWaits && waited > 0)
        {
            delay += SwarmSimulationOptions.RetryScheduleSeconds(waited) - waited;
        }

        return delay;
    }

    private void Start(SwarmSession session, bool queued)
    {
        var idle = IdleSeconds(session, _now, queued);
        for (var h = session.HeldHops; h < session.Hops.Count; h++)
        {
            var hop = session.Hops[h];
            _freeSlots[hop.Server] -= hop.Blocks.Count;
            _holders[hop.Server].Add(session);
        }

        session.HeldHops = session.Hops.Count;
        session.Running = true;
        session.Version++;
        if (double.IsNaN(session.FirstStartSeconds))
        {
            session.FirstStartSeconds = _now;
        }

        var replayTokens = _instance.PromptTokens + session.TokensBefore;
        double prefill = 0, step = 0;
        var previous = -1;
        for (var h = 0; h < session.Hops.Count; h++)
        {
            var hop = session.Hops[h];
            var perToken = _instance.EnterSecondsPerToken(session.Client, previous, hop.Server) + (hop.Blocks.Count * _instance.DecodeSecondsPerBlock(hop.Server));
            step += perToken;
            // A fresh start runs the prompt through every hop; after a failure only the new hops replay, the kept ones run one step.
            var replays = session.TokensBefore == 0 || h >= session.ReplayFrom;
            prefill += replays
                ? _instance.EnterPromptSeconds(session.Client, previous, hop.Server, replayTokens) + (hop.Blocks.Count * _instance.PrefillSecondsPerBlock(hop.Server, replayTokens))
                : perToken;
            previous = hop.Server;
        }

        step += _instance.ExitSecondsPerToken(session.Client, previous);
        prefill += _instance.ExitPromptSeconds(session.Client, previous);
        session.PhaseStartSeconds = _now + idle;
        session.PhasePrefillSeconds = prefill;
        session.StepSeconds = step;
        var completion = session.PhaseStartSeconds + prefill + ((_instance.OutputTokens - session.TokensBefore - 1) * step);
        session.ExpectedReleaseSeconds = completion;
        if (double.IsNaN(session.FirstTokenSeconds) && session.TokensBefore == 0)
        {
            session.FirstTokenSeconds = session.PhaseStartSeconds + prefill;
        }

        _events.Enqueue(completion, new SwarmEvent(SwarmEventKind.Completion, session.Request, session.Version));
    }

    private void Complete(SwarmSession session, int version)
    {
        if (session.Version != version || !session.Running || session.Done)
        {
            return;
        }

        Release(session);
        session.Running = false;
        session.Done = true;
        session.CompletionSeconds = _now;
    }

    private void Release(SwarmSession session)
    {
        for (var h = 0; h < session.HeldHops; h++)
        {
            var hop = session.Hops[h];
            if (_holders[hop.Server].Remove(session))
            {
                _freeSlots[hop.Server] += hop.Blocks.Count;
            }
        }

        session.HeldHops = 0;
        session.Pending = false;
        _pending.Remove(session);
    }

    private void Fail(SwarmSession session, string reason)
    {
        session.Running = false;
        session.Done = true;
        session.FailureReason = reason;
        session.Version++;
    }

    private void SetCapacities()
    {
        for (var j = 0; j < _capacity.Length; j++)
        {
            var held = _capacity[j] - _freeSlots[j];
            var capacity = _alive[j] ? _placementPolicy.CacheSlots(_instance, j, _placement.Blocks(j).Count) : 0;
            var changed = capacity != _capacity[j];
            _capacity[j] = capacity;
            _freeSlots[j] = _capacity[j] - held;
            if (changed && _announced is not null)
            {
                // A server that joins or moves announces itself at once.
                _announced[j] = _freeSlots[j];
            }
        }
    }
}
