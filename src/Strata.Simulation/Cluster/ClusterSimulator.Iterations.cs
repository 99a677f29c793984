using System.Runtime.InteropServices;
using Strata.Performance;

namespace Strata.Simulation.Cluster;

public sealed partial class ClusterSimulator
{
    /// <summary>Forms and starts the next iteration of an idle machine, if it has work, by the batching policy.</summary>
    /// <remarks>
    /// Decodes in a step take one token each, allocating a KV block when they cross a block boundary and preempting
    /// the youngest running request when none is free. Prompts are admitted first-come first-served while the step
    /// stays within the token budget and the sequence limit and their KV blocks fit; the first prompt of a step is
    /// admitted even past the budget (a long prompt runs rather than starving), except in chunked batching, which
    /// cuts it into chunks. See <see cref="BatchingPolicy"/> and docs/simulator.md for each policy's rule.
    /// </remarks>
    private void TryStartIteration(SimulatedMachine machine)
    {
        if (machine.Busy)
        {
            return;
        }

        machine.BatchPrefill.Clear();
        machine.BatchChunks.Clear();
        _decodeContext = 0;
        int decodes;
        long tokens;
        switch (_options.Batching)
        {
            case BatchingPolicy.PrefillFirst:
                tokens = AdmitPrompts(machine, 0, 0);
                decodes = machine.BatchPrefill.Count > 0 ? 0 : AllocateDecodes(machine, Math.Min(machine.Running.Count, _options.MaxBatchRequests));
                break;
            case BatchingPolicy.SplitwiseMls:
                tokens = AdmitPrompts(machine, 0, 0);
                var room = Math.Min(_options.MaxBatchRequests - machine.BatchPrefill.Count, machine.BatchPrefill.Count > 0 ? _options.MaxBatchTokens - tokens : Math.Max(1, _options.MaxBatchTokens));
                decodes = AllocateDecodes(machine, (int)Math.Clamp(room, 0, machine.Running.Count));
                break;
            case BatchingPolicy.Chunked:
                decodes = AllocateDecodes(machine, Math.Min(machine.Running.Count, _options.MaxBatchRequests));
                tokens = AdmitChunks(machine, decodes);
                break;
            default:
                decodes = AllocateDecodes(machine, Math.Min(machine.Running.Count, _options.MaxBatchRequests));
                tokens = AdmitPrompts(machine, decodes, decodes);
                break;
        }

        machine.BatchDecodeCount = decodes;
        if (tokens + decodes == 0 && machine.BatchPrefill.Count == 0)
        {
            return;
        }

        var shape = decodes > 0 ? new BatchShape(0, 0, 0, 0, decodes, _decodeContext) : default;

        for (var i = 0; i < machine.BatchPrefill.Count; i++)
        {
            var r = machine.BatchPrefill[i];
            shape += BatchShape.Prefill(1, machine.BatchChunks[i], _prefilled[r]);
        }

        if (shape.IsEmpty)
        {
            return;
        }

        machine.Busy = true;
        machine.IterationStartSeconds = _now;
        machine.Iterations++;
        _iterations++;
        var duration = machine.Performance.StepSeconds(shape);
        _iterationLog?.Add(new IterationRecord(machine.Index, _now, duration, shape.PrefillTokens, decodes));
        _events.Enqueue(_now + duration, new SimulationEvent(SimulationEventKind.IterationDone, machine.Index));
    }

    /// <summary>Gives the first <paramref name="count"/> running requests one token of KV room each (preempting the youngest when memory runs out); returns how many decode.</summary>
    /// <remarks>Adds the decoding requests' contexts (prompt + generated tokens each) to <see cref="_decodeContext"/> for the step's shape.</remarks>
    private int AllocateDecodes(SimulatedMachine machine, int count)
    {
        var running = machine.Running;
        var blockTokens = (long)_options.KvBlockTokens;
        var promptLengths = _promptLengths;
        var generated = _generated;
        var blocks = _blocks;
        long decodeContext = 0;
        var i = 0;
        for (; i < count && i < running.Count; i++)
        {
            var r = running[i];
            // The step appends the last generated token's KV: prompt + generated tokens in all. Most steps stay inside
            // the last block, which the comparison tells without a division.
            var context = (long)promptLengths[r] + generated[r];
            if (context <= blocks[r] * blockTokens)
            {
                decodeContext += context;
                continue;
            }

            var needed = BlocksFor(context) - blocks[r];
            while (needed > machine.KvFreeBlocks)
            {
                var victim = running[^1];
                running.RemoveAt(running.Count - 1);
                Preempt(machine, victim);
                if (victim == r)
                {
                    break;
                }
            }

            if (i >= running.Count)
            {
                break;
            }

            machine.KvUsedBlocks += needed;
            blocks[r] += needed;
            decodeContext += context;
        }

        // Victims come off the tail, so the first i entries stay in place: they are the step's decodes.
        _decodeContext = decodeContext;
        return Math.Min(i, running.Count);
    }

    /// <summary>Admits whole prompts first-come first-served after <paramref name="tokens"/> tokens and <paramref name="sequences"/> sequences; returns the step's tokens.</summary>
    private long AdmitPrompts(SimulatedMachine machine, long tokens, int sequences)
    {
        var queue = machine.PrefillQueue;
        while (queue.Count > 0 && sequences < _options.MaxBatchRequests)
        {
            var r = queue.PeekFirst();
            var context = _requests[r].PromptTokens + _generated[r];
            if (machine.BatchPrefill.Count > 0 && tokens + context > _options.MaxBatchTokens)
            {
                break;
            }

            if (!StartPrefill(machine, r))
            {
                break;
            }

            queue.RemoveFirst();
            machine.BatchPrefill.Add(r);
            machine.BatchChunks.Add(context);
            tokens += context;
            sequences++;
        }

        return tokens;
    }

    /// <summary>Sarathi-Serve's chunks: prompts first-come first-served, each taking what is left of the token budget after <paramref name="decodes"/> decodes.</summary>
    private long AdmitChunks(SimulatedMachine machine, int decodes)
    {
        var queue = machine.PrefillQueue;
        long tokens = decodes;
        var sequences = decodes;
        var index = 0;
        while (index < queue.Count && sequences < _options.MaxBatchRequests && tokens < _options.MaxBatchTokens)
        {
            var r = queue.PeekAt(index);
            var context = _requests[r].PromptTokens + _generated[r];
            if (_state[r] != (byte)RequestState.Prefilling && !StartPrefill(machine, r))
            {
                break;
            }

            var chunk = (int)Math.Min(context - _prefilled[r], _options.MaxBatchTokens - tokens);
            machine.BatchPrefill.Add(r);
            machine.BatchChunks.Add(chunk);
            tokens += chunk;
            sequences++;
            index++;
        }

        return tokens;
    }

    /// <summary>Reserves the KV blocks of a prompt's prefill; false when they do not fit.</summary>
    private bool StartPrefill(SimulatedMachine machine, int r)
    {
        var context = _requests[r].PromptTokens + _generated[r];
        var blocks = BlocksFor((long)context + 1);
        if (blocks > machine.KvFreeBlocks)
        {
            return false;
        }

        machine.KvUsedBlocks += blocks;
        _blocks[r] = blocks;
        _prefilled[r] = 0;
        _state[r] = (byte)RequestState.Prefilling;
        if (double.IsNaN(_prefillStartSeconds[r]))
        {
            _prefillStartSeconds[r] = _now;
            _metrics.Queueing.Add(_now - _requests[r].ArrivalSeconds);
        }

        return true;
    }

    private void Preempt(SimulatedMachine machine, int r)
    {
        machine.KvUsedBlocks -= _blocks[r];
        _blocks[r] = 0;
        _preemptions++;
        _requestPreemptions[r]++;
        _state[r] = (byte)RequestState.Queued;
        machine.PrefillQueue.AddFirst(r);
        _prefillMachine[r] = machine.Index;
        machine.PendingPromptTokens += _requests[r].PromptTokens + _generated[r];
        // The recompute prefill runs here, and so does the rest of the decode.
        if (_decodeMachine[r] != machine.Index)
        {
            _machines[_decodeMachine[r]].PendingDecodeTokens -= _requests[r].OutputTokens - _generated[r];
            machine.PendingDecodeTokens += _requests[r].OutputTokens - _generated[r];
            _decodeMachine[r] = machine.Index;
        }
    }

    private void CompleteIteration(SimulatedMachine machine)
    {
        machine.Busy = false;
        machine.BusySeconds += _now - machine.IterationStartSeconds;

        // Decodes first: they were the running list's first BatchDecodeCount entries. Those that sat the step out
        // (Splitwise MLS) move to the front, so they run first next time.
        var running = machine.Running;
        var satOut = running.Count - machine.BatchDecodeCount;
        if (satOut > 0 && machine.BatchDecodeCount > 0)
        {
            RotateLeft(CollectionsMarshal.AsSpan(running), machine.BatchDecodeCount);
        }

        var firstDecoded = running.Count - machine.BatchDecodeCount;
        var kept = firstDecoded;
        var generated = _generated;
        var outputLengths = _outputLengths;
        var lastTokenSeconds = _lastTokenSeconds;
        var tbt = _metrics.Tbt;
        for (var i = firstDecoded; i < running.Count; i++)
        {
            // ProduceToken, written out: this loop runs once per generated token.
            var r = running[i];
            if (generated[r] > 0)
            {
                tbt.Add(_now - lastTokenSeconds[r]);
            }

            generated[r]++;
            lastTokenSeconds[r] = _now;
            machine.PendingDecodeTokens--;
            if (generated[r] == outputLengths[r])
            {
                Finish(machine, r);
                continue;
            }

            running[kept++] = r;
        }

        running.RemoveRange(kept, running.Count - kept);

        var queue = machine.PrefillQueue;
        for (var i = 0; i < machine.BatchPrefill.Count; i++)
        {
            var r = machine.BatchPrefill[i];
            var chunk = machine.BatchChunks[i];
            machine.PendingPromptTokens -= chunk;
            _prefilled[r] += chunk;
            var context = _requests[r].PromptTokens + _generated[r];
            if (_prefilled[r] < context)
            {
                continue; // a chunk of a longer prompt: it stays at the head of the queue
            }

            if (_options.Batching == BatchingPolicy.Chunked)
            {
                queue.Remove(r);
            }

            var first = _generated[r] == 0;
            ProduceToken(r);
            if (first)
            {
                _firstTokenSeconds[r] = _now;
            }
            else
            {
                _machines[_decodeMachine[r]].PendingDecodeTokens--;
            }

            if (_generated[r] == _outputLengths[r])
            {
                Finish(machine, r);
            }
            else if (_decodeMachine[r] == machine.Index)
            {
                _state[r] = (byte)RequestState.Decoding;
                running.Add(r);
            }
            else
            {
                RequestTransfer(machine, r);
            }
        }

        machine.BatchPrefill.Clear();
        machine.BatchChunks.Clear();
        machine.BatchDecodeCount = 0;
        TryStartIteration(machine);
    }

    /// <summary>Moves the first <paramref name="count"/> items to the end, keeping both parts in order (three reversals, in place).</summary>
    private static void RotateLeft(Span<int> items, int count)
    {
        items[..count].Reverse();
        items[count..].Reverse();
        items.Reverse();
    }

    private void ProduceToken(int r)
    {
        if (_generated[r] > 0)
        {
            _metrics.Tbt.Add(_now - _lastTokenSeconds[r]);
        }

        _generated[r]++;
        _lastTokenSeconds[r] = _now;
    }

    private void Finish(SimulatedMachine machine, int r)
    {
        machine.KvUsedBlocks -= _blocks[r];
        _blocks[r] = 0;
        _state[r] = (byte)RequestState.Done;
        machine.RequestsInFlight--;
        _completed++;
        RecordCompletion(r);
        StartWaitingTransfers(machine);
    }
}
