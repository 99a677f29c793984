namespace Strata.Performance.Batching;

/// <summary>
/// When a block server's decode batcher runs its next step: how long the step's first token waits for other sessions'
/// tokens. One rule for the runtime's batcher and for the loopback predictor's model of it, so that the predictor
/// prices the waits the server takes.
/// </summary>
/// <typeparam name="TSession">What tells sessions apart (the runtime's session object; the model's session index).</typeparam>
/// <remarks>
/// <para>Times are seconds on the caller's clock. The rule remembers, for each session whose token ran in a step, when
/// that step ended and how long the session took to come back (its <em>return delay</em>: the client's head and
/// sampling, the rest of its route, any emulated round trip), predicting the shorter of its last two, so that one long
/// return (a pause at the client between generations) does not make the rule give up on a session. When a step opens (its first token taken at
/// <c>t0</c>), the sessions it waits for are those that are out (their last token ran, the next has not come), ran the
/// same block range, and are predicted back (last step's end plus the return delay) by <c>t0 + B</c>, where the bound
/// <c>B</c> is half the longer of the last step's run time and that of the steps those sessions last ran in, never more
/// than <see cref="MaxReturnWaitSeconds"/>. The step then runs as soon as all of them are in (or it is full), and at the
/// latest at <c>t0 + B</c>: a prediction is a hint of whom to wait for, the bound alone caps what a wrong one costs (a
/// session up to <c>B</c> late still joins).</para>
/// <para>Why half a step: a batched decode step reads all the weights once, so a step of m rows costs at least one
/// row's step, and an 8-row step costs about two (docs/benchmarks.md). A token that misses a step runs in the next
/// one, after the whole step; waiting at most half a step for it costs the others at most about what a separate step
/// for it would cost the server. It also keeps a server that alternates two groups of sessions (one group runs here
/// while the other runs on the next server of a pipeline and comes back as this step ends) from waiting for the other
/// group: that group is predicted back a whole step away, beyond the bound, so pipelined groups stay pipelined.</para>
/// <para>Only the return delay is predicted, never the time since the last step: a session on a long route (a far
/// server, an emulated WAN round trip of tens of milliseconds) is waited for from the first token of the step, not from
/// when it left, and sessions that all take the long route together arrive together, filling the step without a wait
/// per step. A session predicted back beyond the bound is not waited for (the step runs without it), nor one overdue by
/// more than the bound (its prediction is stale: a client that paused or stopped; a lone session never waits for it). A session that
/// was waited for and did not come is dropped from the rule until its token runs again, so one that stopped decoding
/// (or whose route slowed) costs the others at most one bounded wait; a closed session is forgotten at once
/// (<see cref="Forget"/>).</para>
/// <para>When no session is expected and every session the rule tracks for that block range is in (queued) or predicted
/// back beyond the bound, the step runs at once: waiting would help nobody it knows of (eight sessions all queued run
/// without the window). When it cannot predict (no step ran yet, the return wait is off, or a session is out that it
/// never saw come back or that is overdue), the earlier window applies: the step waits <see cref="BatchWaitSeconds"/> unless the last step
/// ran one token with none queued meanwhile (a lone session, which thus never waits after its first step). Not
/// thread-safe: one batcher worker (or one simulation) drives it.</para>
/// </remarks>
public sealed class DecodeBatchRule<TSession>
    where TSession : notnull
{
    private readonly Dictionary<TSession, Track> _tracks = [];
    private readonly List<TSession> _expected = [];
    private int _awaited;
    private double _lastStepSeconds;
    private bool _contended = true; // the first step waits the window

    /// <summary>Creates the rule.</summary>
    /// <param name="batchWaitSeconds">The window a step waits when no session is expected and the rule cannot tell where they all are, seconds, at least 0.</param>
    /// <param name="maxReturnWaitSeconds">Longest a step waits for the sessions expected back, seconds, at least 0 (0: never waits for them, only the window).</param>
    public DecodeBatchRule(double batchWaitSeconds, double maxReturnWaitSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchWaitSeconds);
        ArgumentOutOfRangeException.ThrowIfNegative(maxReturnWaitSeconds);
        if (!double.IsFinite(batchWaitSeconds) || !double.IsFinite(maxReturnWaitSeconds))
        {
            throw new ArgumentOutOfRangeException(nameof(batchWaitSeconds), "The batch waits are finite numbers of seconds.");
        }

        BatchWaitSeconds = batchWaitSeconds;
        MaxReturnWaitSeconds = maxReturnWaitSeconds;
    }

    /// <summary>The window a step waits when no session is expected back (and the rule cannot tell where they all are), seconds.</summary>
    public double BatchWaitSeconds { get; }

    /// <summary>Longest a step waits for the sessions expected back, seconds.</summary>
    public double MaxReturnWaitSeconds { get; }

    /// <summary>Sessions the open step waits for (empty when it waits for none, or once it is closed).</summary>
    public IReadOnlyList<TSession> Expected => _expected;

    /// <summary>Whether every session the open step waits for has come back (true when it waits for none).</summary>
    public bool AllArrived => _awaited == 0;

    /// <summary>Sessions the rule remembers (a metric, and for tests).</summary>
    public int TrackedSessions => _tracks.Count;

    /// <summary>Records that a token of <paramref name="session"/> arrived at <paramref name="atSeconds"/>, learning its return delay.</summary>
    public void Arrived(TSession session, double atSeconds)
    {
        if (!_tracks.TryGetValue(session, out var track) || !track.Out)
        {
            return; // unknown, or a second token while its first waits: nothing to learn
        }

        track.PreviousReturnSeconds = track.ReturnSeconds;
        track.ReturnSeconds = Math.Max(0, atSeconds - track.LastEndSeconds);
        track.Out = false;
        if (track.Awaited)
        {
            track.Awaited = false;
            _awaited--;
        }
    }

    /// <summary>
    /// Opens a step whose first token (of blocks <c>[firstBlock, firstBlock + blockCount)</c>) is taken at
    /// <paramref name="nowSeconds"/>, after the tokens already queued were recorded with <see cref="Arrived"/>; returns when
    /// the step runs at the latest (<paramref name="nowSeconds"/> when it waits for nothing).
    /// </summary>
    /// <remarks>The caller runs the step at that time, or before once <see cref="AllArrived"/> holds or the step is full, then calls <see cref="Close"/>.</remarks>
    public double Open(int firstBlock, int blockCount, double nowSeconds)
    {
        ClearExpected();
        var longest = _lastStepSeconds;
        foreach (var track in _tracks.Values)
        {
            if (track.Out && track.FirstBlock == firstBlock && track.BlockCount == blockCount && !double.IsNaN(track.ReturnSeconds))
            {
                longest = Math.Max(longest, track.StepSeconds);
            }
        }

        var bound = Math.Min(MaxReturnWaitSeconds, longest / 2);
        var predicts = bound > 0; // false before any step ran, or with the return wait off
        var unknown = !predicts;
        foreach (var (session, track) in _tracks)
        {
            if (!predicts || !track.Out || track.FirstBlock != firstBlock || track.BlockCount != blockCount)
            {
                continue;
            }

            var back = track.LastEndSeconds + track.PredictedReturnSeconds;
            if (double.IsNaN(back) || back < nowSeconds - bound)
            {
                unknown = true; // out, never seen back, or overdue by more than the bound: no prediction worth a wait
            }
            else if (back <= nowSeconds + bound)
            {
                _expected.Add(session);
            }
        }

        if (_expected.Count == 0)
        {
            // Every session known is here or predicted back beyond the bound: waiting helps nobody known. Otherwise the window.
            return unknown && _contended ? nowSeconds + BatchWaitSeconds : nowSeconds;
        }

        foreach (var session in _expected)
        {
            _tracks[session].Awaited = true;
        }

        _awaited = _expected.Count;
        return nowSeconds + bound;
    }

    /// <summary>Closes the open step's wait: the sessions it waited for that did not come are dropped until their next token runs.</summary>
    public void Close()
    {
        foreach (var session in _expected)
        {
            if (_tracks.TryGetValue(session, out var track) && track.Awaited)
            {
                _tracks.Remove(session);
            }
        }

        ClearExpected();
    }

    /// <summary>Records a step of one token of each of <paramref name="sessions"/> (blocks <c>[firstBlock, firstBlock + blockCount)</c>) run from <paramref name="startSeconds"/> to <paramref name="endSeconds"/>.</summary>
    /// <param name="sessions">The step's sessions.</param>
    /// <param name="firstBlock">First block the step ran.</param>
    /// <param name="blockCount">Blocks the step ran.</param>
    /// <param name="startSeconds">When the step started.</param>
    /// <param name="endSeconds">When it ended (its tokens left then).</param>
    /// <param name="queuedMeanwhile">Whether tokens were queued, not in the step, when it ended.</param>
    public void StepRan(IReadOnlyList<TSession> sessions, int firstBlock, int blockCount, double startSeconds, double endSeconds, bool queuedMeanwhile)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        _lastStepSeconds = Math.Max(0, endSeconds - startSeconds);
        _contended = sessions.Count > 1 || queuedMeanwhile;
        foreach (var session in sessions)
        {
            if (!_tracks.TryGetValue(session, out var track))
            {
                _tracks[session] = track = new Track();
            }

            track.LastEndSeconds = endSeconds;
            track.StepSeconds = _lastStepSeconds;
            track.FirstBlock = firstBlock;
            track.BlockCount = blockCount;
            track.Out = true;
        }
    }

    /// <summary>Forgets <paramref name="session"/> (it closed): no step waits for it any more.</summary>
    public void Forget(TSession session)
    {
        if (_tracks.Remove(session, out var track) && track.Awaited)
        {
            _awaited--;
            _expected.Remove(session);
        }
    }

    private void ClearExpected()
    {
        foreach (var session in _expected)
        {
            if (_tracks.TryGetValue(session, out var track))
            {
                track.Awaited = false;
            }
        }

        _expected.Clear();
        _awaited = 0;
    }

    private sealed class Track
    {
        public double LastEndSeconds { get; set; }

        public double ReturnSeconds { get; set; } = double.NaN; // until measured

        public double PreviousReturnSeconds { get; set; } = double.NaN;

        public double StepSeconds { get; set; } // run time of the step it last ran in

        // The shorter of the last two: one long return (a pause at the client) does not make the rule give up on a session.
        public double PredictedReturnSeconds => double.IsNaN(PreviousReturnSeconds) ? ReturnSeconds : Math.Min(ReturnSeconds, PreviousReturnSeconds);

        public int FirstBlock { get; set; }

        public int BlockCount { get; set; }

        public bool Out { get; set; } // its last token ran here, the next has not come

        public bool Awaited { get; set; } // the open step waits for it
    }
}
