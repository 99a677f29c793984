using System.Diagnostics;
using Strata.Cli.Commands;
using Strata.Performance.Profiles;
using Strata.Planning.Live;
using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Profiling;
using Strata.Runtime.Protocol;
using Strata.Runtime.Serving;
using Strata.Runtime.Weights;

namespace Strata.Cli.Validation;

/// <summary>
/// <c>strata validate sim-to-real</c>: a loopback cluster (coordinator and three block servers in this process, the
/// back half of the model replicated), profiled first, then predicted, then run for real; predicted vs measured per case.
/// </summary>
/// <remarks>
/// Order: write the model, <see cref="RuntimeProfiler"/> (nothing of the scored runs), then per emulated round trip:
/// start the servers with it, run warm-up generations (<see cref="WarmupGenerations"/> alone, one batch at the largest
/// concurrency), then per concurrency <c>C</c>: wait for an idle registry, measure the absolute costs again
/// (<see cref="RuntimeProfiler.RefreshAsync"/>, unless turned off) and take the median of every measurement so far
/// (<see cref="RuntimeProfiler.Median"/>), measure the client's round trips (median of <see cref="RoundTripProbes"/>
/// calls), predict (<see cref="PredictCommand.Predict"/>: the coordinator's policy over the snapshot,
/// <see cref="Simulation.Live.LoopbackClusterPredictor"/>), and run <c>C</c> real generations at once (greedy, fixed
/// length) several times. A run's value is the mean over its
/// sessions; a case's measured value is the median over its runs.
/// </remarks>
internal static class SimToReal
{
    /// <summary>One case: predicted vs measured (medians over the runs of the case, each run's value the mean over its sessions).</summary>
    internal sealed record Case(double RttMs, int Concurrency, string Route,
        double PredictedTtftSeconds, double MeasuredTtftSeconds, double PredictedTpotSeconds, double MeasuredTpotSeconds,
        double PredictedE2eSeconds, double MeasuredE2eSeconds, IReadOnlyList<Run> Runs, IReadOnlyDictionary<string, double> RoundTripSeconds, Run? PredictedBySlowdown,
        Run? PredictedByInitialProfile, RuntimeProfile CaseProfile, int ProfileMeasurements, IReadOnlyList<Batches> ServerBatches)
    {
        /// <summary>Relative errors (predicted - measured) / measured of TTFT, TPOT and E2E.</summary>
        public IReadOnlyList<double> Errors =>
            [(PredictedTtftSeconds - MeasuredTtftSeconds) / MeasuredTtftSeconds, (PredictedTpotSeconds - MeasuredTpotSeconds) / MeasuredTpotSeconds,
             (PredictedE2eSeconds - MeasuredE2eSeconds) / MeasuredE2eSeconds];
    }

    /// <summary>One server's decode batches in a case: predicted for one run, measured over the case's runs (per run).</summary>
    internal sealed record Batches(string Server, int PredictedSteps, double PredictedRowsPerStep, double MeasuredStepsPerRun, double MeasuredRowsPerStep);

    /// <summary>One run of a case: the means over its sessions.</summary>
    internal sealed record Run(double TtftSeconds, double TpotSeconds, double E2eSeconds);

    /// <summary>Runs the validation.</summary>
    public static async Task<(RuntimeProfile Profile, IReadOnlyList<Case> Cases)> RunAsync(
        ModelPreset preset, IReadOnlyList<double> rttsMs, IReadOnlyList<int> concurrency, int promptTokens, int outputTokens, int runsPerCase, RuntimeProfilerOptions profilerOptions,
        bool refreshProfile, Action<string> status, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"strata-sim2real-{preset.Name}-{Environment.ProcessId}");
        var config = preset.ToConfig();
        RandomModelWriter.Write(directory, config, 1, overwrite: true);
        try
        {
            status("profiling the runtime");
            var profile = await RuntimeProfiler.MeasureAsync(directory, profilerOptions, status, cancellationToken: cancellationToken).ConfigureAwait(false);
            var profiled = refreshProfile ? ModelFolder.LoadModel(directory) : null; // the whole model, for the refresh before each case
            var measurements = new List<RuntimeProfile> { profile };
            var cases = new List<Case>();
            var prompt = Enumerable.Range(0, promptTokens).Select(i => 3 + (i % (config.VocabularySize - 3))).ToArray();
            var generation = new GenerationOptions { MaxNewTokens = outputTokens };
            var kvBytesPerBlock = 2L * (promptTokens + outputTokens) * config.KeyValueDimension * sizeof(float);
            var half = config.LayerCount / 2;
            foreach (var rttMs in rttsMs)
            {
                status($"cluster with {rttMs} ms round trips");
                await using var coordinator = await CoordinatorHost.StartAsync(options: new CoordinatorOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(100) }, cancellationToken: cancellationToken)
                    .ConfigureAwait(false);
                using var client = new CoordinatorClient(coordinator.Address);
                var limits = new BlockServerLimits { EmulatedRtt = TimeSpan.FromMilliseconds(rttMs) };
                var servers = new List<(BlockServerHost Host, BlockServerAgent Agent)>();
                try
                {
                    foreach (var (id, first, count) in new[] { ("a-front", 0, half), ("b-back", half, config.LayerCount - half), ("c-back", half, config.LayerCount - half) })
                    {
                        var host = await BlockServerHost.StartAsync(new LlamaModel(config, LlamaWeightsLoader.Load(directory, config, first, count, includeEmbeddingAndHead: false)),
                            limits: limits, cancellationToken: cancellationToken).ConfigureAwait(false);
                        var agent = await BlockServerAgent.StartAsync(host, client, config.Architecture.Name, config.LayerCount,
                            new BlockServerAgentOptions
                            {
                                ServerId = id,
                                DecodeSecondsPerBlock = profile.DecodeSeconds(promptTokens + (outputTokens / 2.0)),
                                PrefillSecondsPerBlockPerToken = profile.PrefillSeconds(promptTokens) / promptTokens,
                            }, cancellationToken: cancellationToken).ConfigureAwait(false);
                        servers.Add((host, agent));
                    }

                    var clientModel = new LlamaModel(config, LlamaWeightsLoader.Load(directory, config, 0, 0));
                    using var chain = new CoordinatedBlockChain(client, clientModel, new CoordinatedChainOptions { ExpectedOutputTokens = outputTokens });
                    var generator = new TextGenerator(clientModel, chain);
                    // Warm-up, not scored: connections and the servers' paths, alone and at the largest concurrency (batched steps).
                    for (var i = 0; i < WarmupGenerations; i++)
                    {
                        await generator.GenerateAsync(prompt, generation, cancellationToken).ConfigureAwait(false);
                    }

                    await Task.WhenAll(Enumerable.Range(0, concurrency.Max()).Select(_ => generator.GenerateAsync(prompt, generation, cancellationToken))).ConfigureAwait(false);
                    foreach (var c in concurrency)
                    {
                        await IdleAsync(client, cancellationToken).ConfigureAwait(false);
                        // The absolute costs measured again here, in this process, with the cluster up and idle, moments
                        // before the runs (a shared host's speed drifts between the first profile and a case minutes
                        // later); the case is predicted from the median of every measurement so far, so that a slow spell
                        // during one of them does not decide a case.
                        if (profiled is not null)
                        {
                            measurements.Add(await RuntimeProfiler.RefreshAsync(directory, profiled, profile, profilerOptions, cancellationToken: cancellationToken).ConfigureAwait(false));
                        }

                        var caseProfile = RuntimeProfiler.Median(measurements);
                        var entries = await client.ListServersAsync(cancellationToken).ConfigureAwait(false);
                        var rtts = await TypicalRoundTripsAsync(entries, cancellationToken).ConfigureAwait(false);
                        var predicted = PredictCommand.Predict(entries, rtts, config.LayerCount, kvBytesPerBlock, promptTokens, outputTokens, c, LiveRouting.DefaultPolicy, caseProfile);
                        // For comparison only: the earlier model (one concurrency slowdown for all compute) on the same profile,
                        // and the prediction from the first profile alone.
                        var bySlowdown = caseProfile.HasBatchModel
                            ? PredictCommand.Predict(entries, rtts, config.LayerCount, kvBytesPerBlock, promptTokens, outputTokens, c, LiveRouting.DefaultPolicy, caseProfile with { DecodeBatchCost = null })
                            : null;
                        var byInitial = profiled is null
                            ? null
                            : PredictCommand.Predict(entries, rtts, config.LayerCount, kvBytesPerBlock, promptTokens, outputTokens, c, LiveRouting.DefaultPolicy, profile);
                        status($"  {c} session(s) at once, {runsPerCase} run(s)");
                        var measured = new List<Run>();
                        var batchesBefore = servers.ToDictionary(s => s.Agent.ServerId, s => s.Host.DecodeBatches, StringComparer.Ordinal);
                        for (var r = 0; r < runsPerCase; r++)
                        {
                            await IdleAsync(client, cancellationToken).ConfigureAwait(false);
                            var runs = await Task.WhenAll(Enumerable.Range(0, c).Select(_ => generator.GenerateAsync(prompt, generation, cancellationToken))).ConfigureAwait(false);
                            measured.Add(new Run(runs.Average(g => g.TtftSeconds), runs.Average(g => g.TpotSeconds), runs.Average(g => g.TotalSeconds)));
                        }

                        var serverBatches = servers.Select(s =>
                        {
                            var (steps, rows) = s.Host.DecodeBatches;
                            var (stepsBefore, rowsBefore) = batchesBefore[s.Agent.ServerId];
                            var expected = predicted.Batches.FirstOrDefault(b => b.Server == s.Agent.ServerId);
                            return new Batches(s.Agent.ServerId, expected?.Steps ?? 0, expected?.RowsPerStep ?? 0,
                                (double)(steps - stepsBefore) / runsPerCase, steps == stepsBefore ? 0 : (double)(rows - rowsBefore) / (steps - stepsBefore));
                        }).ToArray();
                        cases.Add(new Case(rttMs, c, string.Join(" -> ", predicted.Route.Select(h => h.Server)),
                            predicted.TtftSeconds, Samples.Median(measured.Select(m => m.TtftSeconds)), predicted.TpotSeconds, Samples.Median(measured.Select(m => m.TpotSeconds)),
                            predicted.E2eSeconds, Samples.Median(measured.Select(m => m.E2eSeconds)), measured, rtts,
                            bySlowdown is null ? null : new Run(bySlowdown.TtftSeconds, bySlowdown.TpotSeconds, bySlowdown.E2eSeconds),
                            byInitial is null ? null : new Run(byInitial.TtftSeconds, byInitial.TpotSeconds, byInitial.E2eSeconds), caseProfile, measurements.Count, serverBatches));
                    }
                }
                finally
                {
                    foreach (var (host, agent) in servers)
                    {
                        await agent.DisposeAsync().ConfigureAwait(false);
                        await host.DisposeAsync().ConfigureAwait(false);
                    }
                }
            }

            return (profile, cases);
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // A temp folder left behind is harmless.
            }
        }
    }

    /// <summary>Untimed generations alone before the scored runs of each cluster (one more runs at the largest concurrency).</summary>
    internal const int WarmupGenerations = 3;

    /// <summary>Round-trip probes per server; the prediction uses their median.</summary>
    internal const int RoundTripProbes = 9;

    // The client's typical round trip to each server: the median of several small calls, not the best one (a generation
    // pays the emulated delay's usual timer overshoot on every hop, not its luckiest).
    private static async Task<IReadOnlyDictionary<string, double>> TypicalRoundTripsAsync(IEnumerable<ServerEntry> entries, CancellationToken cancellationToken)
    {
        var rtts = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            using var server = new BlockServerClient(new Uri(entry.Url), deadline: TimeSpan.FromSeconds(2));
            await server.InfoAsync(cancellationToken).ConfigureAwait(false);
            var samples = new double[RoundTripProbes];
            for (var i = 0; i < samples.Length; i++)
            {
                var start = Stopwatch.GetTimestamp();
                await server.InfoAsync(cancellationToken).ConfigureAwait(false);
                samples[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }

            rtts[entry.ServerId] = Samples.Median(samples);
        }

        return rtts;
    }

    private static async Task IdleAsync(CoordinatorClient client, CancellationToken cancellationToken)
    {
        for (var wait = 0; wait < 100 && (await client.ListServersAsync(cancellationToken).ConfigureAwait(false)).Any(s => s.Sessions > 0 || s.PendingSessions > 0); wait++)
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }
}
