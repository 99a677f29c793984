using Strata.Performance;
using Strata.Planning.Pools;

namespace Strata.Simulation.Cluster;

/// <summary>One machine's mutable state during a run: memory, queues, the batch in flight, counters.</summary>
internal sealed class SimulatedMachine
{
    public SimulatedMachine(int index, MachineRole role, IPerformanceModel performance, long kvCapacityBlocks, MachinePool pool, double kvBytesPerToken)
    {
        Index = index;
        Role = role;
        Performance = performance;
        KvCapacityBlocks = kvCapacityBlocks;
        Pool = pool;
        KvBytesPerToken = kvBytesPerToken;
    }

    public int Index { get; }

    public MachineRole Role { get; }

    public IPerformanceModel Performance { get; }

    public MachinePool Pool { get; }

    public double KvBytesPerToken { get; }

    public long KvCapacityBlocks { get; }

    public long KvUsedBlocks { get; set; }

    public long KvFreeBlocks => KvCapacityBlocks - KvUsedBlocks;

    /// <summary>Requests waiting for prefill (new, borrowed, or preempted for recompute at the front).</summary>
    public IntDeque PrefillQueue { get; } = new();

    /// <summary>Requests whose KV cache waits for memory here before it can be transferred in.</summary>
    public IntDeque TransferWait { get; } = new();

    /// <summary>Requests decoding here, KV allocated, oldest first.</summary>
    public List<int> Running { get; } = new(64);

    /// <summary>Prefills of the iteration in flight.</summary>
    public List<int> BatchPrefill { get; } = new(16);

    /// <summary>Tokens each of <see cref="BatchPrefill"/> computes in the iteration in flight (a whole prompt, or a chunk).</summary>
    public List<int> BatchChunks { get; } = new(16);

    /// <summary>Requests routed here and not finished (token-JSQ's requests in flight).</summary>
    public int RequestsInFlight { get; set; }

    /// <summary>The first this-many entries of <see cref="Running"/> decode in the iteration in flight.</summary>
    public int BatchDecodeCount { get; set; }

    public bool Busy { get; set; }

    public double IterationStartSeconds { get; set; }

    public double BusySeconds { get; set; }

    public long Iterations { get; set; }

    public long PendingPromptTokens { get; set; }

    public long PendingDecodeTokens { get; set; }

    /// <summary>When the machine's network interface finishes the transfers queued on it.</summary>
    public double NetworkFreeAtSeconds { get; set; }

    /// <summary>Back to an idle, empty machine for a new run.</summary>
    public void Reset()
    {
        KvUsedBlocks = 0;
        PrefillQueue.Clear();
        TransferWait.Clear();
        Running.Clear();
        BatchPrefill.Clear();
        BatchChunks.Clear();
        BatchDecodeCount = 0;
        RequestsInFlight = 0;
        Busy = false;
        IterationStartSeconds = BusySeconds = NetworkFreeAtSeconds = 0;
        Iterations = PendingPromptTokens = PendingDecodeTokens = 0;
    }
}
