using Strata.Cli.Commands;
using Strata.Performance.Profiles;
using Strata.Planning.Live;
using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Profiling;
using Strata.Runtime.Serving;
using Strata.Runtime.Weights;

namespace Strata.Cli.Validation;

/// <summary>
/// <c>strata validate sim-to-real</c>: a loopback cluster (coordinator and three block servers in this process, the
/// back half of the model replicated), profiled first, then predicted, then run for real; predicted vs measured per case.
/// </summary>
/// <remarks>
/// Order: write the model, <see cref="RuntimeProfiler"/> (nothing of the scored runs), then per emulated round trip:
/// start the servers with it, wait for an idle registry, predict (<see cref="PredictCommand.Predict"/>: the coordinator's
/// policy over the snapshot and the client's measured round trips, <see cref="Simulation.Live.LoopbackClusterPredictor"/>),
/// run one warm-up generation, then the real generations (greedy, fixed length): one session alone, then
/// <c>C</c> at once. Measured values are means over the sessions of a case.
/// </remarks>
internal static class SimToReal
{
    /// <summary>One case: predicted vs measured.</summary>
    internal sealed record Case(double RttMs, int Concurrency, string Route,
        double PredictedTtftSeconds, double MeasuredTtftSeconds, double PredictedTpotSeconds, double MeasuredTpotSeconds,
        double PredictedE2eSeconds, double MeasuredE2eSeconds)
    {
        /// <summary>Relative errors (predicted - measured) / measured of TTFT, TPOT and E2E.</summary>
        public IReadOnlyList<double> Errors =>
            [(PredictedTtftSeconds - MeasuredTtftSeconds) / MeasuredTtftSeconds, (PredictedTpotSeconds - MeasuredTpotSeconds) / MeasuredTpotSeconds,
             (PredictedE2eSeconds - MeasuredE2eSeconds) / MeasuredE2eSeconds];
    }

    /// <summary>Runs the validation.</summary>
    public static async Task<(RuntimeProfile Profile, IReadOnlyList<Case> Cases)> RunAsync(
        ModelPreset preset, IReadOnlyList<double> rttsMs, IReadOnlyList<int> concurrency, int promptTokens, int outputTokens, RuntimeProfilerOptions profilerOptions,
        Action<string> status, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"strata-sim2real-{preset.Name}-{Environment.ProcessId}");
        var config = preset.ToConfig();
        RandomModelWriter.Write(directory, config, 1, overwrite: true);
        try
        {
            status("profiling the runtime");
            var profile = await RuntimeProfiler.MeasureAsync(directory, profilerOptions, status, cancellationToken: cancellationToken).ConfigureAwait(false);
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
                    await generator.GenerateAsync(prompt, generation, cancellationToken).ConfigureAwait(false); // warm-up: connections, round trips measured
                    foreach (var c in concurrency)
                    {
                        await IdleAsync(client, cancellationToken).ConfigureAwait(false);
                        var entries = await client.ListServersAsync(cancellationToken).ConfigureAwait(false);
                        var predicted = PredictCommand.Predict(entries, await PredictCommand.MeasureRttsAsync(entries, tls: null, cancellationToken).ConfigureAwait(false),
                            config.LayerCount, kvBytesPerBlock, promptTokens, outputTokens, c, LiveRouting.DefaultPolicy, profile);
                        status($"  {c} session(s) at once");
                        var runs = await Task.WhenAll(Enumerable.Range(0, c).Select(_ => generator.GenerateAsync(prompt, generation, cancellationToken))).ConfigureAwait(false);
                        cases.Add(new Case(rttMs, c, string.Join(" -> ", predicted.Route.Select(h => h.Server)),
                            predicted.TtftSeconds, runs.Average(r => r.TtftSeconds), predicted.TpotSeconds, runs.Average(r => r.TpotSeconds),
                            predicted.E2eSeconds, runs.Average(r => r.TotalSeconds)));
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

    private static async Task IdleAsync(CoordinatorClient client, CancellationToken cancellationToken)
    {
        for (var wait = 0; wait < 100 && (await client.ListServersAsync(cancellationToken).ConfigureAwait(false)).Any(s => s.Sessions > 0 || s.PendingSessions > 0); wait++)
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }
}
