using Strata.Performance;

namespace Strata.Simulation.Cluster;

public sealed partial class ClusterSimulator
{
    /// <summary>Forms and starts the next iteration of an idle machine, if it has work.</summary>
    /// <remarks>
    /// Every running decode takes one token (allocating a KV block when it crosses a block boundary, preempting the
    /// youngest running request when none is free); then prompts are admitted first-come first-served while the
    /// step stays within the token and sequence budgets and their KV blocks fit. The first prompt of a step is
    /// admitted even past the token budget (a long prompt runs with the decodes rather than starving).
    /// </remarks>
    private void TryStartIteration(SimulatedMachine machine)
    {
        if (machine.Busy)
        {
            return;
        }

        var running = machine.Running;
        for (var i = 0; i < running.Count; i++)
        {
            var r = running[i];
            // The step appends the last generated token's KV: prompt + generated tokens in all.
            var needed = BlocksFor((long)_requests[r].PromptTokens + _generated[r]) - _blocks[r];
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

            if (needed > 0)
            {
                machine.KvUsedBlocks += needed;
                _blocks[r] += needed;
            }
        }

        var shape = default(BatchShape);
        long tokens = running.Count;
        var sequences = running.Count;
        long decodeContext = 0;
        for (var i = 0; i < running.Count; i++)
        {
            var r = running[i];
            decodeContext += _requests[r].PromptTokens + _generated[r];
        }

        if (running.Count > 0)
        {
            shape = new BatchShape(0, 0, 0, 0, running.Count, decodeContext);
        }

        machine.BatchDecodeCount = running.Count;
        machine.BatchPrefill.Clear();
        var queue = machine.PrefillQueue;
        while (queue.Count > 0 && sequences < _options.MaxBatchRequests)
        {
            var r = queue.PeekFirst();
            var context = _requests[r].PromptTokens + _generated[r];
            if (machine.BatchPrefill.Count > 0 && tokens + context > _options.MaxBatchTokens)
            {
                break;
            }

            var blocks = BlocksFor((long)context + 1);
            if (blocks > machine.KvFreeBlocks)
            {
                break;
            }

            queue.RemoveFirst();
            machine.KvUsedBlocks += blocks;
            _blocks[r] = blocks;
            _state[r] = (byte)RequestState.Prefilling;
            if (double.IsNaN(_prefillStartSeconds[r]))
            {
                _prefillStartSeconds[r] = _now;
                _metrics.Queueing.Add(_now - _requests[r].ArrivalSeconds);
            }

            machine.BatchPrefill.Add(r);
            shape += BatchShape.Prefill(1, context);
            tokens += context;
            sequences++;
        }

        if (shape.IsEmpty)
        {
            return;
        }

        machine.Busy = true;
        machine.IterationStartSeconds = _now;
        machine.Iterations++;
        _iterations++;
        _events.Enqueue(_now + machine.Performance.StepSeconds(shape), new SimulationEvent(SimulationEventKind.IterationDone, machine.Index));
    }

    private void Preempt(SimulatedMachine machine, int r)
    {
        machine.KvUsedBlocks -= _blocks[r];
        _blocks[r] = 0;
        _preemptions++;
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

        // Decodes first: they were the running list's first BatchDecodeCount entries.
        var running = machine.Running;
        var kept = 0;
        for (var i = 0; i < running.Count; i++)
        {
            var r = running[i];
            if (i < machine.BatchDecodeCount)
            {
                ProduceToken(r);
                machine.PendingDecodeTokens--;
                if (_generated[r] == _requests[r].OutputTokens)
                {
                    Finish(machine, r);
                    continue;
                }
            }

            running[kept++] = r;
        }

        running.RemoveRange(kept, running.Count - kept);

        foreach (var r in machine.BatchPrefill)
        {
            var context = _requests[r].PromptTokens + _generated[r];
            machine.PendingPromptTokens -= context;
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

            if (_generated[r] == _requests[r].OutputTokens)
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
        machine.BatchDecodeCount = 0;
        TryStartIteration(machine);
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
        _completed++;
        RecordCompletion(r);
        StartWaitingTransfers(machine);
    }
}
