namespace Strata.Simulation.Cluster;

public sealed partial class ClusterSimulator
{
    /// <summary>Moves a prefilled request's KV cache toward its decode machine, once that machine has room for it.</summary>
    private void RequestTransfer(SimulatedMachine source, int r)
    {
        _state[r] = (byte)RequestState.Transferring;
        _transferBlocks[r] = _blocks[r];
        _blocks[r] = 0;
        var target = _machines[_decodeMachine[r]];
        source.RequestsInFlight--;
        target.RequestsInFlight++;
        if (target.TransferWait.Count == 0 && TryReserve(target, r))
        {
            StartTransfer(source, target, r);
        }
        else
        {
            target.TransferWait.AddLast(r);
        }
    }

    private bool TryReserve(SimulatedMachine target, int r)
    {
        var blocks = BlocksFor((long)_requests[r].PromptTokens + _generated[r] + 1);
        if (blocks > target.KvFreeBlocks)
        {
            return false;
        }

        target.KvUsedBlocks += blocks;
        _blocks[r] = blocks;
        return true;
    }

    /// <summary>Starts queued inbound transfers of <paramref name="target"/> in order while its memory allows.</summary>
    private void StartWaitingTransfers(SimulatedMachine target)
    {
        var waiting = target.TransferWait;
        while (waiting.Count > 0 && TryReserve(target, waiting.PeekFirst()))
        {
            var r = waiting.RemoveFirst();
            StartTransfer(_machines[_prefillMachine[r]], target, r);
        }
    }

    /// <summary>Schedules the transfer by the KV-transfer rule (<see cref="KvTransferRule"/>).</summary>
    /// <remarks>
    /// Link rules: each machine's network sends or receives one transfer at a time, at the slower machine's rate
    /// (all its links, or one); prompts of at least <see cref="ClusterSimulationOptions.LayerwiseTransferMinPromptTokens"/>
    /// tokens stream their KV layer by layer during prefill: the transfer may have started with the prefill, and at
    /// least the last layer's share remains after it. Shorter prompts transfer after prefill, serialized. The fixed
    /// rule (SplitwiseSim) starts every transfer when prefill ends and takes bytes / rate, with no contention.
    /// </remarks>
    private void StartTransfer(SimulatedMachine source, SimulatedMachine target, int r)
    {
        var tokens = _requests[r].PromptTokens + _generated[r] - 1;
        var bytes = source.KvBytesPerToken * Math.Max(1, tokens);
        if (_options.KvTransfer == KvTransferRule.FixedRate)
        {
            var seconds = bytes / _options.KvTransferBytesPerSecond;
            _metrics.KvTransfer.Add(seconds);
            _events.Enqueue(_now + seconds, new SimulationEvent(SimulationEventKind.TransferDone, r));
            return;
        }

        var bandwidth = Math.Min(LinkBytesPerSecond(source), LinkBytesPerSecond(target));
        var latency = Math.Max(source.Pool.NetworkLatencySeconds, target.Pool.NetworkLatencySeconds);
        var wire = bytes / bandwidth;
        var layerwise = _requests[r].PromptTokens >= _options.LayerwiseTransferMinPromptTokens && _generated[r] == 1;
        var ready = layerwise ? _prefillStartSeconds[r] : _now;
        var begin = Math.Max(ready, Math.Max(source.NetworkFreeAtSeconds, target.NetworkFreeAtSeconds));
        var end = Math.Max(begin + wire, layerwise ? _now + wire / _layers : _now) + latency;
        end = Math.Max(end, _now + latency);
        source.NetworkFreeAtSeconds = target.NetworkFreeAtSeconds = end - latency;
        _metrics.KvTransfer.Add(end - _now);
        _events.Enqueue(end, new SimulationEvent(SimulationEventKind.TransferDone, r));
    }

    /// <summary>A machine's KV-transfer rate: its pool's per-link rate, times the machine's network links under <see cref="KvTransferRule.AllLinks"/>.</summary>
    private double LinkBytesPerSecond(SimulatedMachine machine) =>
        _options.KvTransfer == KvTransferRule.AllLinks
            ? machine.Pool.NetworkBandwidthBytesPerSecond * Math.Max(1, machine.Pool.Machine.NetworkInterfaceCount)
            : machine.Pool.NetworkBandwidthBytesPerSecond;

    private void CompleteTransfer(int r)
    {
        var source = _machines[_prefillMachine[r]];
        source.KvUsedBlocks -= _transferBlocks[r];
        _transferBlocks[r] = 0;
        var target = _machines[_decodeMachine[r]];
        _state[r] = (byte)RequestState.Decoding;
        target.Running.Add(r);
        StartWaitingTransfers(source);
        TryStartIteration(source);
        TryStartIteration(target);
    }
}
