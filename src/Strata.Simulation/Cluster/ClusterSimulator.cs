using System.Diagnostics;
using Strata.Core;
using Strata.Core.Models;
using Strata.Core.Workload;
using Strata.Performance;
using Strata.Performance.Memory;
using Strata.Planning.Pools;
using Strata.Simulation.Engine;

namespace Strata.Simulation.Cluster;

/// <summary>Simulates a cluster serving LLM requests: iteration-level continuous batching on each machine, paged KV memory, optional phase splitting with KV transfer.</summary>
/// <remarks>
/// Single-threaded and deterministic: events are ordered by (time, sequence) and arrivals come before events due
/// at the same instant, so the same inputs give the same result bit for bit. Requests are kept as parallel arrays
/// (no per-request or per-event allocation on the hot path). Each machine runs one iteration at a time; an
/// iteration's time comes from the machine's <see cref="IPerformanceModel"/>, and decode steps cost more as
/// contexts grow. Memory is paged in blocks of <see cref="ClusterSimulationOptions.KvBlockTokens"/> tokens and
/// allocated as tokens are produced; when a decode step finds no free block, the youngest running request is
/// preempted and recomputed later (vLLM's recompute policy; nothing is swapped).
/// </remarks>
public sealed partial class ClusterSimulator : IRequestCountView
{
    private readonly ClusterDesign _design;
    private readonly ClusterSimulationOptions _options;
    private readonly IPerformanceModel _reference;
    private readonly SimulatedMachine[] _machines;
    private readonly int _layers;
    private readonly EventQueue<SimulationEvent> _events = new(4096);

    // Per-request state, indexed by position in the request array.
    private InferenceRequest[] _requests = [];
    private int[] _promptLengths = [];
    private int[] _outputLengths = [];
    private int[] _generated = [];
    private int[] _prefillMachine = [];
    private int[] _decodeMachine = [];
    private int[] _blocks = [];
    private int[] _prefilled = [];
    private int[] _requestPreemptions = [];
    private List<IterationRecord>? _iterationLog;
    private int[] _transferBlocks = [];
    private double[] _firstTokenSeconds = [];
    private double[] _lastTokenSeconds = [];
    private double[] _prefillStartSeconds = [];
    private byte[] _state = [];

    private double _now;
    private long _decodeContext;
    private long _completed;
    private long _preemptions;
    private long _iterations;
    private readonly Dictionary<string, long> _failed = [];
    private Recorders _metrics = new();

    /// <summary>Creates a simulator of <paramref name="design"/> serving <paramref name="model"/>.</summary>
    /// <param name="design">Machine pools and scheduler kind.</param>
    /// <param name="model">The model every machine serves.</param>
    /// <param name="performanceFor">Performance model for a deployment (e.g. a calibrated roofline).</param>
    /// <param name="referenceAlone">Performance model of the slowdown reference (the request alone on a DGX-A100).</param>
    /// <param name="options">Machine-level settings.</param>
    /// <param name="precision">Weight precision; default the model's own.</param>
    /// <exception cref="StrataException">The model's weights do not fit a machine of the design.</exception>
    public ClusterSimulator(
        ClusterDesign design,
        ModelArchitecture model,
        Func<Deployment, IPerformanceModel> performanceFor,
        IPerformanceModel referenceAlone,
        ClusterSimulationOptions? options = null,
        Precision? precision = null)
    {
        ArgumentNullException.ThrowIfNull(design);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(performanceFor);
        ArgumentNullException.ThrowIfNull(referenceAlone);
        _design = design;
        _options = (options ?? new ClusterSimulationOptions()).Validate();
        _reference = referenceAlone;
        _layers = model.LayerCount;
        if (design.MachineCount == 0)
        {
            throw new StrataException($"Design '{design.Name}' has no machines; expected at least one.");
        }

        var machines = new List<SimulatedMachine>(design.MachineCount);
        foreach (var pool in design.Pools)
        {
            if (pool.Count == 0)
            {
                continue;
            }

            var deployment = new Deployment(model, pool.Machine, precision ?? model.NativePrecision);
            var memory = new MemoryModel(deployment, _options.MemoryUtilization);
            if (!memory.WeightsFit)
            {
                throw new StrataException(
                    $"Model '{model.Id}' ({memory.WeightsBytes / (1L << 30):F1} GiB of weights) does not fit machine '{pool.Machine.Id}' ({memory.UsableBytes / (1L << 30):F1} GiB usable); pick a bigger machine or a lower precision.");
            }

            var performance = performanceFor(deployment);
            var capacityBlocks = memory.KvCapacityTokens / _options.KvBlockTokens;
            for (var i = 0; i < pool.Count; i++)
            {
                machines.Add(new SimulatedMachine(machines.Count, pool.Role, performance, capacityBlocks, pool, memory.KvBytesPerToken));
            }
        }

        _machines = machines.ToArray();
    }

    /// <inheritdoc />
    public int MachineCount => _machines.Length;

    /// <inheritdoc />
    public MachineRole Role(int machine) => _machines[machine].Role;

    /// <inheritdoc />
    public long PendingPromptTokens(int machine) => _machines[machine].PendingPromptTokens;

    /// <inheritdoc />
    public long PendingDecodeTokens(int machine) => _machines[machine].PendingDecodeTokens;

    /// <inheritdoc />
    public int RequestsInFlight(int machine) => _machines[machine].RequestsInFlight;

    /// <inheritdoc />
    public double KvUtilization(int machine) => (double)_machines[machine].KvUsedBlocks / Math.Max(1, _machines[machine].KvCapacityBlocks);

    /// <summary>Runs the requests (sorted by arrival) through the cluster.</summary>
    /// <param name="requests">Requests in arrival order.</param>
    /// <param name="scheduler">Cluster-level scheduler (a fresh one per run).</param>
    /// <param name="slo">Absolute SLO for attainment and goodput (TPOT checked against its TBT target).</param>
    /// <param name="progress">Receives the share of arrivals processed, now and then.</param>
    /// <param name="cancellationToken">Stops the run between events.</param>
    public SimulationResult Run(
        IReadOnlyList<InferenceRequest> requests,
        IClusterScheduler scheduler,
        ServiceLevelObjective slo,
        IProgress<double>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(slo);
        var started = Stopwatch.GetTimestamp();
        Reset(requests);
        _slo = slo;
        var n = _requests.Length;
        var next = 0;
        var reportEvery = Math.Max(1, n / 100);
        while (true)
        {
            var arrivalTime = next < n ? _requests[next].ArrivalSeconds : double.PositiveInfinity;
            if (arrivalTime <= _events.PeekTime && next < n)
            {
                _now = arrivalTime;
                Arrive(next++, scheduler);
                if (next % reportEvery == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    progress?.Report((double)next / n);
                }

                continue;
            }

            if (!_events.TryDequeue(out var time, out var e))
            {
                break;
            }

            _now = time;
            if (e.Kind == SimulationEventKind.IterationDone)
            {
                CompleteIteration(_machines[e.Target]);
            }
            else
            {
                CompleteTransfer(e.Target);
            }
        }

        FailStuckRequests();
        progress?.Report(1);
        return Summarize(scheduler.Name, slo, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private void Reset(IReadOnlyList<InferenceRequest> requests)
    {
        var n = requests.Count;
        _requests = new InferenceRequest[n];
        for (var i = 0; i < n; i++)
        {
            _requests[i] = requests[i];
            if (i > 0 && _requests[i].ArrivalSeconds < _requests[i - 1].ArrivalSeconds)
            {
                throw new StrataException($"Request {i} arrives at {_requests[i].ArrivalSeconds} s, before request {i - 1}; expected requests in arrival order.");
            }

            if (_requests[i].PromptTokens < 1 || _requests[i].OutputTokens < 1)
            {
                throw new StrataException($"Request {i} has {_requests[i].PromptTokens} prompt and {_requests[i].OutputTokens} output tokens; expected at least 1 of each.");
            }
        }

        _promptLengths = new int[n];
        _outputLengths = new int[n];
        for (var i = 0; i < n; i++)
        {
            _promptLengths[i] = _requests[i].PromptTokens;
            _outputLengths[i] = _requests[i].OutputTokens;
        }

        _generated = new int[n];
        _prefillMachine = new int[n];
        _decodeMachine = new int[n];
        _blocks = new int[n];
        _prefilled = new int[n];
        _requestPreemptions = new int[n];
        _iterationLog = _options.KeepIterations ? [] : null;
        _transferBlocks = new int[n];
        _firstTokenSeconds = new double[n];
        _lastTokenSeconds = new double[n];
        _prefillStartSeconds = new double[n];
        _state = new byte[n];
        _prefillStartSeconds.AsSpan().Fill(double.NaN);
        _now = 0;
        _completed = _preemptions = _iterations = 0;
        _failed.Clear();
        _metrics = new Recorders();
        _sloMet = _outputTokens = 0;
        _lastCompletionSeconds = 0;
        foreach (var machine in _machines)
        {
            machine.Reset();
        }
    }

    private int BlocksFor(long tokens) => (int)((tokens + _options.KvBlockTokens - 1) / _options.KvBlockTokens);

    private void Arrive(int r, IClusterScheduler scheduler)
    {
        ref readonly var request = ref _requests[r];
        var route = scheduler.Route(request, this);
        var blocksNeeded = BlocksFor(request.TotalTokens);
        if (blocksNeeded > _machines[route.PrefillMachine].KvCapacityBlocks || blocksNeeded > _machines[route.DecodeMachine].KvCapacityBlocks)
        {
            Fail(r, "kv-cache-too-small-for-request");
            return;
        }

        _prefillMachine[r] = route.PrefillMachine;
        _decodeMachine[r] = route.DecodeMachine;
        var prefill = _machines[route.PrefillMachine];
        prefill.PrefillQueue.AddLast(r);
        prefill.RequestsInFlight++;
        prefill.PendingPromptTokens += request.PromptTokens;
        _machines[route.DecodeMachine].PendingDecodeTokens += request.OutputTokens - 1;
        _state[r] = (byte)RequestState.Queued;
        TryStartIteration(prefill);
    }

    private void Fail(int r, string reason)
    {
        _state[r] = (byte)RequestState.Failed;
        _failed[reason] = _failed.GetValueOrDefault(reason) + 1;
    }

    private void FailStuckRequests()
    {
        for (var r = 0; r < _requests.Length; r++)
        {
            if (_state[r] is not ((byte)RequestState.Done or (byte)RequestState.Failed))
            {
                Fail(r, "stuck-waiting-for-kv-memory");
            }
        }
    }
}
