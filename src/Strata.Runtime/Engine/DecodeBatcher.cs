using System.Collections.Concurrent;
using System.Threading.Channels;
using Strata.Performance.Batching;

namespace Strata.Runtime.Engine;

/// <summary>
/// Continuous batching of decode steps: gathers the one-token steps of concurrent sessions and runs them as one
/// <see cref="LlamaModel.ForwardDecodeBatch"/> (one pass over the weights), each caller getting its own row back.
/// </summary>
/// <remarks>
/// <para>One worker runs the steps in turn. It takes a token as soon as one is queued, with whatever else is queued, and
/// then waits for more as <see cref="DecodeBatchRule{TSession}"/> says: for the sessions of its recent steps that are
/// predicted back soon (each from the shorter of its last two return delays), until they are all in, the step is full,
/// or a bound of half a step (the longer of the last step and the one those sessions last ran in; at most
/// <see cref="DecodeBatchOptions.MaxReturnWait"/>) has passed. When every session it knows is queued, the step runs at
/// once; only when it cannot predict does it wait <see cref="DecodeBatchOptions.BatchWait"/>, skipped while one session
/// decodes alone (the last step ran one token and none queued during it), so a lone session runs as fast as without
/// batching. The wait runs from the
/// step's first token, never from when the others left: sessions on a long route (a far server, an emulated round
/// trip) come back together and fill the step without a wait per step, and one that stopped coming costs the others at
/// most one bounded wait. Call <see cref="Forget"/> when a session closes.</para>
/// <para>Tokens for different block ranges, or a second token of a session already in the step, run in a later step of
/// the same round, in arrival order. Each row gets the same bits as running its session alone (a row's arithmetic does
/// not depend on the others). A token the model refuses (its blocks disagree) fails alone; the others run.
/// Thread-safe; a caller must not change its session while its token is queued or running.</para>
/// </remarks>
public sealed class DecodeBatcher : IAsyncDisposable
{
    private readonly LlamaModel _model;
    private readonly DecodeBatchOptions _options;
    private readonly TimeProvider _time;
    private readonly Action<int>? _stepRan;
    private readonly Channel<Request> _queue = Channel.CreateUnbounded<Request>(); // not SingleReader: that one cannot count its queue
    private readonly List<Request> _taken = []; // the tokens of the round in hand, owned by the worker
    private readonly List<Request> _carried = []; // tokens left over for the next round, owned by the worker
    private readonly ConcurrentQueue<InferenceSession> _closed = new(); // sessions to forget, read by the worker
    private readonly DecodeBatchRule<InferenceSession> _rule;
    private readonly long _origin;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Starts a batcher running steps of <paramref name="model"/>.</summary>
    /// <param name="model">The model whose blocks the steps run.</param>
    /// <param name="options">Batch size and wait bounds (defaults when null).</param>
    /// <param name="timeProvider">Clock of the wait window (the system clock by default).</param>
    /// <param name="stepRan">Called on the worker with the number of tokens of each step run (a metric).</param>
    public DecodeBatcher(LlamaModel model, DecodeBatchOptions? options = null, TimeProvider? timeProvider = null, Action<int>? stepRan = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _options = (options ?? new DecodeBatchOptions()).Validate();
        _time = timeProvider ?? TimeProvider.System;
        _stepRan = stepRan;
        _rule = new DecodeBatchRule<InferenceSession>(_options.BatchWait.TotalSeconds, _options.MaxReturnWait.TotalSeconds);
        _origin = _time.GetTimestamp();
        var thread = new Thread(Run) { IsBackground = true, Name = "Strata decode batcher" };
        thread.Start();
    }

    /// <summary>The bounds the batcher keeps to.</summary>
    public DecodeBatchOptions Options => _options;

    /// <summary>Runs blocks <c>[firstBlock, firstBlock + blockCount)</c> on the next token of <paramref name="session"/>, batched with other sessions' tokens.</summary>
    /// <param name="session">The session; each block appends the token to its KV cache.</param>
    /// <param name="firstBlock">First block to run.</param>
    /// <param name="blockCount">Number of blocks to run.</param>
    /// <param name="hidden">Hidden state of the token, <c>(hidden)</c>; overwritten with the range's output when the task ends.</param>
    /// <returns>Ends when the token has run (or failed, with the model's exception).</returns>
    /// <exception cref="ObjectDisposedException">The batcher was disposed.</exception>
    public Task ForwardAsync(InferenceSession session, int firstBlock, int blockCount, Memory<float> hidden)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentOutOfRangeException.ThrowIfNegative(firstBlock);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstBlock + blockCount, _model.Config.LayerCount, nameof(blockCount));
        if (hidden.Length != _model.Config.HiddenSize)
        {
            throw new ArgumentException($"A decode token's hidden state holds {_model.Config.HiddenSize} floats; got {hidden.Length}.", nameof(hidden));
        }

        var request = new Request(new DecodeRow(session, hidden), firstBlock, blockCount, _time.GetTimestamp());
        if (!_queue.Writer.TryWrite(request))
        {
            throw new ObjectDisposedException(nameof(DecodeBatcher), "The decode batcher has stopped; run the step on the model directly.");
        }

        return request.Done.Task;
    }

    /// <summary>Forgets <paramref name="session"/> (it closed or was evicted): later steps stop waiting for its tokens.</summary>
    /// <remarks>Takes effect from the next step the worker opens; a step already waiting for it waits at most its bound.</remarks>
    public void Forget(InferenceSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        _closed.Enqueue(session);
    }

    /// <summary>Stops taking tokens, runs those already queued, and waits for the worker to end.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stopped.Task.ConfigureAwait(false);
    }

    // The worker runs on a thread of its own and blocks while it waits, so every step starts on the same awake thread.
    // Run from a thread-pool thread after the server sat idle (a round trip, the rest of a route), a step's parallel
    // products ran a third slower than back to back (18-20 ms against 12-13 ms for the small preset's 12 blocks after
    // a 50 ms pause, docs/validation.md), while on a dedicated thread they take what a tight loop takes.
    private void Run()
    {
        try
        {
            RunSteps();
            _stopped.SetResult();
        }
        catch (Exception exception)
        {
            // A broken worker must not leave callers waiting forever: refuse new tokens and fail the queued ones and
            // those in hand (a token already completed stays completed).
            _queue.Writer.TryComplete(exception);
            while (_queue.Reader.TryRead(out var request))
            {
                request.Done.TrySetException(exception);
            }

            foreach (var request in _taken.Concat(_carried))
            {
                request.Done.TrySetException(exception);
            }

            _stopped.SetException(exception);
        }
    }

    private void RunSteps()
    {
        var reader = _queue.Reader;
        var taken = _taken;
        var carried = _carried;
        while (carried.Count > 0 || reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (_closed.TryDequeue(out var closed))
            {
                _rule.Forget(closed);
            }

            // Tokens left over from the last round go first, in their order.
            taken.Clear();
            var fromCarry = Math.Min(carried.Count, _options.MaxBatch);
            taken.AddRange(carried.GetRange(0, fromCarry));
            carried.RemoveRange(0, fromCarry);
            Drain(reader, taken);
            if (taken.Count < _options.MaxBatch)
            {
                var deadline = _rule.Open(taken[0].FirstBlock, taken[0].BlockCount, Now());
                WaitForMore(reader, taken, deadline);
                _rule.Close();
            }

            RunRound(taken, carried, reader);
        }
    }

    private double Now() => Seconds(_time.GetElapsedTime(_origin));

    private static double Seconds(TimeSpan elapsed) => (double)elapsed.Ticks / TimeSpan.TicksPerSecond;

    private void Drain(ChannelReader<Request> reader, List<Request> taken)
    {
        while (taken.Count < _options.MaxBatch && reader.TryRead(out var request))
        {
            _rule.Arrived(request.Row.Session, Seconds(_time.GetElapsedTime(_origin, request.QueuedTimestamp)));
            taken.Add(request);
        }
    }

    // Waits until the rule's deadline (seconds on the batcher's clock), the step is full, or every session the rule
    // expects is in; the deadline runs from the step's first token, so later tokens do not extend it.
    private void WaitForMore(ChannelReader<Request> reader, List<Request> taken, double deadline)
    {
        // Whole ticks, so that a clock advanced by exactly the window ends it.
        var end = TimeSpan.FromTicks((long)Math.Round(deadline * TimeSpan.TicksPerSecond));
        while (taken.Count < _options.MaxBatch && (_rule.Expected.Count == 0 || !_rule.AllArrived))
        {
            var left = end - _time.GetElapsedTime(_origin);
            if (left <= TimeSpan.Zero)
            {
                return;
            }

            using var window = new CancellationTokenSource(left, _time);
            try
            {
                if (!reader.WaitToReadAsync(window.Token).AsTask().GetAwaiter().GetResult())
                {
                    return; // completed: run what was taken
                }
            }
            catch (OperationCanceledException) when (window.IsCancellationRequested)
            {
                return;
            }

            Drain(reader, taken);
        }
    }

    // Runs the first step the taken tokens allow (one block range, a session at most once): it holds the oldest token;
    // whatever it cannot take waits for the next round, ahead of new arrivals. The rule learns of the step once it ran.
    private void RunRound(List<Request> taken, List<Request> carried, ChannelReader<Request> reader)
    {
        var steps = new List<List<Request>>();
        foreach (var request in taken)
        {
            try
            {
                _model.CheckedPosition(request.Row.Session, request.FirstBlock, request.BlockCount);
            }
            catch (InvalidOperationException exception)
            {
                request.Done.TrySetException(exception);
                continue;
            }

            var step = steps.Find(s => s[0].FirstBlock == request.FirstBlock && s[0].BlockCount == request.BlockCount
                && !s.Exists(r => ReferenceEquals(r.Row.Session, request.Row.Session)));
            if (step is null)
            {
                steps.Add([request]);
            }
            else
            {
                step.Add(request);
            }
        }

        if (steps.Count == 0)
        {
            return;
        }

        var start = Now();
        var ran = Run(steps[0]);
        var end = Now();
        for (var s = steps.Count - 1; s >= 1; s--)
        {
            carried.InsertRange(0, steps[s]);
        }

        if (ran is not null)
        {
            // Should the rule throw (or the metric, in Run), the worker's catch fails every token it still holds.
            _rule.StepRan([.. ran.Select(r => r.Row.Session)], steps[0][0].FirstBlock, steps[0][0].BlockCount, start, end, carried.Count > 0 || reader.Count > 0);
            foreach (var request in ran)
            {
                request.Done.TrySetResult();
            }
        }
    }

    // Runs the step; returns its requests to complete (null when it failed: each got the exception).
    private List<Request>? Run(List<Request> step)
    {
        try
        {
            var rows = new DecodeRow[step.Count];
            for (var r = 0; r < rows.Length; r++)
            {
                rows[r] = step[r].Row;
            }

            _model.ForwardDecodeBatch(rows, step[0].FirstBlock, step[0].BlockCount);
        }
        catch (Exception exception)
        {
            foreach (var request in step)
            {
                request.Done.TrySetException(exception);
            }

            return null;
        }

        _stepRan?.Invoke(step.Count); // part of the step's time (tests advance a fake clock here)
        return step;
    }

    private sealed class Request(DecodeRow row, int firstBlock, int blockCount, long queuedTimestamp)
    {
        public DecodeRow Row { get; } = row;

        public int FirstBlock { get; } = firstBlock;

        public int BlockCount { get; } = blockCount;

        public long QueuedTimestamp { get; } = queuedTimestamp; // on the batcher's TimeProvider

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
