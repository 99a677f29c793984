using Strata.Core.Workload;
using Strata.Performance;
using Strata.Simulation.Metrics;

namespace Strata.Simulation.Cluster;

public sealed partial class ClusterSimulator
{
    private ServiceLevelObjective _slo = new();
    private long _sloMet;
    private long _outputTokens;
    private double _lastCompletionSeconds;

    private void RecordCompletion(int r)
    {
        ref readonly var request = ref _requests[r];
        var ttft = _firstTokenSeconds[r] - request.ArrivalSeconds;
        var e2e = _now - request.ArrivalSeconds;
        var tpot = request.OutputTokens > 1 ? (e2e - ttft) / (request.OutputTokens - 1) : 0;
        _metrics.Ttft.Add(ttft);
        _metrics.E2e.Add(e2e);
        if (request.OutputTokens > 1)
        {
            _metrics.Tpot.Add(tpot);
        }

        _outputTokens += request.OutputTokens;
        _lastCompletionSeconds = _now;
        if (_slo.IsMet(ttft, tpot, e2e))
        {
            _sloMet++;
        }

        // Slowdowns against the same request alone on the reference machine (Splitwise Table VI).
        var aloneTtft = _reference.StepSeconds(BatchShape.Prefill(1, request.PromptTokens));
        var aloneTbt = _reference.StepSeconds(BatchShape.Decode(1, request.PromptTokens + request.OutputTokens / 2));
        _metrics.TtftSlowdown.Add(ttft / aloneTtft);
        _metrics.E2eSlowdown.Add(e2e / (aloneTtft + (request.OutputTokens - 1) * aloneTbt));
        if (request.OutputTokens > 1)
        {
            _metrics.TbtSlowdown.Add(tpot / aloneTbt);
        }
    }

    private SimulationResult Summarize(string scheduler, ServiceLevelObjective slo, double wallSeconds)
    {
        var n = _requests.Length;
        var firstArrival = n > 0 ? _requests[0].ArrivalSeconds : 0;
        var lastArrival = n > 0 ? _requests[^1].ArrivalSeconds : 0;
        // Throughput and goodput share one window, first arrival to the later of the last arrival and the last
        // completion, so goodput (requests within the SLO) can never exceed throughput (requests completed).
        var span = Math.Max(_lastCompletionSeconds, lastArrival) - firstArrival;
        var busy = 0.0;
        long kvInUse = 0;
        foreach (var machine in _machines)
        {
            busy += machine.BusySeconds;
            kvInUse += machine.KvUsedBlocks;
        }

        var checks = SlowdownCheck.SplitwiseLimits.Select(limit =>
        {
            var recorder = limit.Metric switch { "ttft" => _metrics.TtftSlowdown, "tbt" => _metrics.TbtSlowdown, _ => _metrics.E2eSlowdown };
            var value = recorder.Count > 0 ? recorder.Quantile(limit.Percentile / 100.0) : double.NaN;
            return new SlowdownCheck(limit.Metric, limit.Percentile, value, limit.Limit);
        }).ToArray();
        var failedTotal = _failed.Values.Sum();
        return new SimulationResult
        {
            Design = _design.Name,
            Scheduler = scheduler,
            Requests = n,
            Completed = _completed,
            Failed = new SortedDictionary<string, long>(_failed, StringComparer.Ordinal),
            Ttft = _metrics.Ttft.Summary(),
            Tbt = _metrics.Tbt.Summary(),
            Tpot = _metrics.Tpot.Summary(),
            E2e = _metrics.E2e.Summary(),
            Queueing = _metrics.Queueing.Summary(),
            KvTransfer = _metrics.KvTransfer.Summary(),
            SloAttainment = n > 0 ? (double)_sloMet / (_completed + failedTotal) : double.NaN,
            GoodputRequestsPerSecond = span > 0 ? _sloMet / span : 0,
            SplitwiseSlo = checks,
            ThroughputRequestsPerSecond = span > 0 ? _completed / span : 0,
            ThroughputTokensPerSecond = span > 0 ? _outputTokens / span : 0,
            MachineUtilization = span > 0 ? busy / (span * _machines.Length) : 0,
            Machines = _machines.Length,
            CostPerHour = _design.PricePerHour,
            PowerWatts = _design.PowerWatts,
            SimulatedSeconds = span,
            Iterations = _iterations,
            Preemptions = _preemptions,
            KvBlocksInUseAtEnd = kvInUse,
            WallSeconds = wallSeconds,
            Outcomes = _options.KeepRequestOutcomes ? Outcomes() : null,
            IterationRecords = _iterationLog,
        };
    }

    private RequestOutcome[] Outcomes()
    {
        var outcomes = new RequestOutcome[_requests.Length];
        for (var r = 0; r < outcomes.Length; r++)
        {
            var done = _state[r] == (byte)RequestState.Done;
            var arrival = _requests[r].ArrivalSeconds;
            outcomes[r] = new RequestOutcome(r, done, _generated[r] > 0 ? _firstTokenSeconds[r] - arrival : double.NaN, done ? _lastTokenSeconds[r] - arrival : double.NaN, _prefillMachine[r], _decodeMachine[r], _requestPreemptions[r], arrival, _requests[r].PromptTokens, _requests[r].OutputTokens);
        }

        return outcomes;
    }

    /// <summary>One run's metric streams.</summary>
    private sealed class Recorders
    {
        public LatencyRecorder Ttft { get; } = new();
        public LatencyRecorder Tbt { get; } = new();
        public LatencyRecorder Tpot { get; } = new();
        public LatencyRecorder E2e { get; } = new();
        public LatencyRecorder Queueing { get; } = new();
        public LatencyRecorder KvTransfer { get; } = new();
        public LatencyRecorder TtftSlowdown { get; } = new();
        public LatencyRecorder TbtSlowdown { get; } = new();
        public LatencyRecorder E2eSlowdown { get; } = new();
    }
}
