using System.Threading.Channels;

namespace Strata.Runtime.Engine;

/// <summary>
/// Continuous batching of decode steps: gathers the one-token steps of concurrent sessions and runs them as one
/// <see cref="LlamaModel.ForwardDecodeBatch"/> (one pass over the weights), each caller getting its own row back.
/// </summary>
/// <remarks>
/// One worker runs the steps in turn. It takes a token as soon as one is queued, waits at most
/// <see cref="DecodeBatchOptions.BatchWait"/> for more (less if the batch fills), runs them, and starts again with whatever
/// arrived meanwhile. The wait is skipped while one session decodes alone (the last step ran one token and none queued
/// during it), so a lone session runs as fast as without batching. Tokens for different block ranges, or a second token of a session already in the step, run in a
/// later step of the same round, in arrival order. Each row gets the same bits as running its session alone. A token
/// the model refuses (its blocks disagree) fails alone; the others run. Thread-safe; a caller must not change its
/// session while its token is queued or running.
/// </remarks>
public sealed class DecodeBatcher : IAsyncDisposable
{
    private readonly LlamaModel _model;
    private readonly DecodeBatchOptions _options;
    private readonly TimeProvider _time;
    private readonly Action<int>? _stepRan;
    private readonly Channel<Request> _queue = Channel.CreateUnbounded<Request>(); // not SingleReader: that one cannot count its queue
    private readonly Task _worker;

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
        _worker = Task.Run(RunAsync);
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

        var request = new Request(new DecodeRow(session, hidden), firstBlock, blockCount);
        if (!_queue.Writer.TryWrite(request))
        {
            throw new ObjectDisposedException(nameof(DecodeBatcher), "The decode batcher has stopped; run the step on the model directly.");
        }

        return request.Done.Task;
    }

    /// <summary>Stops taking tokens, runs those already queued, and waits for the worker to end.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        try
        {
            await RunStepsAsync().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // A broken worker must not leave callers waiting forever: refuse new tokens and fail the queued ones.
            _queue.Writer.TryComplete(exception);
            while (_queue.Reader.TryRead(out var request))
            {
                request.Done.TrySetException(exception);
            }

            throw;
        }
    }

    private async Task RunStepsAsync()
    {
        var reader = _queue.Reader;
        var taken = new List<Request>(_options.MaxBatch);
        var carried = new List<Request>();

        // Whether other sessions are decoding too: the last step ran several tokens, or tokens queued while it ran. A lone
        // session (one token per step, nothing queued meanwhile) skips the window and pays no wait; the first step waits.
        var contended = true;
        while (carried.Count > 0 || await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // Tokens left over from the last round go first, in their order.
            taken.Clear();
            var fromCarry = Math.Min(carried.Count, _options.MaxBatch);
            taken.AddRange(carried.GetRange(0, fromCarry));
            carried.RemoveRange(0, fromCarry);
            Drain(reader, taken);
            if (contended && taken.Count < _options.MaxBatch && _options.BatchWait > TimeSpan.Zero)
            {
                await WaitForMoreAsync(reader, taken).ConfigureAwait(false);
            }

            var ran = RunRound(taken, carried);
            contended = ran > 1 || carried.Count > 0 || reader.Count > 0;
        }
    }

    private void Drain(ChannelReader<Request> reader, List<Request> taken)
    {
        while (taken.Count < _options.MaxBatch && reader.TryRead(out var request))
        {
            taken.Add(request);
        }
    }

    // The window runs from the first token of the step: later tokens do not extend it.
    private async Task WaitForMoreAsync(ChannelReader<Request> reader, List<Request> taken)
    {
        var start = _time.GetTimestamp();
        while (taken.Count < _options.MaxBatch)
        {
            var left = _options.BatchWait - _time.GetElapsedTime(start);
            if (left <= TimeSpan.Zero)
            {
                return;
            }

            using var window = new CancellationTokenSource(left, _time);
            try
            {
                if (!await reader.WaitToReadAsync(window.Token).ConfigureAwait(false))
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

    // Runs the first step the taken tokens allow (one block range, a session at most once) and returns its size: it holds
    // the oldest token; whatever it cannot take waits for the next round, ahead of new arrivals.
    private int RunRound(List<Request> taken, List<Request> carried)
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
            return 0;
        }

        Run(steps[0]);
        for (var s = steps.Count - 1; s >= 1; s--)
        {
            carried.InsertRange(0, steps[s]);
        }

        return steps[0].Count;
    }

    private void Run(List<Request> step)
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

            return;
        }

        _stepRan?.Invoke(step.Count);
        foreach (var request in step)
        {
            request.Done.TrySetResult();
        }
    }

    private sealed class Request(DecodeRow row, int firstBlock, int blockCount)
    {
        public DecodeRow Row { get; } = row;

        public int FirstBlock { get; } = firstBlock;

        public int BlockCount { get; } = blockCount;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
