using System.Globalization;
using Strata.Core;
using Strata.Performance.Profiles;
using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Serving;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Profiling;

/// <summary>Measures Strata's CPU runtime on this machine (<c>strata profile runtime</c>) into a <see cref="RuntimeProfile"/>.</summary>
/// <remarks>
/// <para>Every point is the median of <see cref="RuntimeProfilerOptions.Repetitions"/> timed runs (twice to four times as
/// many for the small differences: the emulated link, the session opening, the hop overhead), after untimed runs of the
/// same calls (<see cref="RuntimeProfilerOptions.WarmupIterations"/>, a quarter or an eighth of it for the longer
/// calls), so the JIT has tiered the kernels up. Block times are a forward pass through every block of the model divided by the block
/// count (the blocks have one shape). Parts that a generation runs one after the other are measured in the same turn
/// (blocks then head), each timed on its own, so each pays the cache misses the other leaves it; a cost that is the
/// difference of two calls is the median of differences of pairs run in turn, not a difference of two medians taken
/// apart (a slow spell of the host then lands on both halves of a pair).</para>
/// <list type="bullet">
/// <item>Prefill: a fresh session, <c>n</c> prompt tokens through every block, then the head of the <c>n</c> tokens.</item>
/// <item>Decode: a session holding <c>c - 1</c> tokens, one more through every block (truncated back between runs), then
/// the head of one token.</item>
/// <item>Head: embedding plus final norm and LM head of the last token, timed in the turns above (prefill: the median
/// over every prompt length; decode: over every context).</item>
/// <item>Hop overhead: a one-token step of block 0 through a block server on loopback (gRPC) less the same step run in
/// process.</item>
/// <item>Emulated link: a one-token step of up to four blocks and a small call through servers whose replies are delayed
/// each of <see cref="EmulatedLinkProbesMs"/>, against the same without the delay: what the delay costs the step beyond
/// the call, per block (a step after an idle wait runs on cold caches and woken cores).</item>
/// <item>Session opening: a two-token generation through a coordinator and one block server holding every block, less
/// the same in process and the three hop overheads the predictor already counts (routing, the hop).</item>
/// <item>Concurrency slowdown: <c>C</c> sessions decoding at once on their own threads through a decode batcher, each
/// step's median over one session's.</item>
/// <item>Concurrent prefills: <c>C</c> prefills started at once on the thread pool, their mean completion time over one
/// prefill's.</item>
/// <item>Decode batch cost: one <see cref="LlamaModel.ForwardDecodeBatch"/> of <c>m</c> one-token rows through every
/// block over the same step of one row (what a block server's batched step costs), with the logical processors and the
/// servers' batch wait recorded beside it.</item>
/// </list>
/// </remarks>
public static class RuntimeProfiler
{
    /// <summary>Profiles the model in <paramref name="modelDirectory"/>; <paramref name="status"/> hears each stage.</summary>
    public static async Task<RuntimeProfile> MeasureAsync(string modelDirectory, RuntimeProfilerOptions options, Action<string>? status = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        time ??= TimeProvider.System;
        var model = ModelFolder.LoadModel(modelDirectory);
        var config = model.Config;
        var layers = config.LayerCount;
        var random = new Random(17);
        float[] Hidden(int tokens) => RandomHidden(random, tokens, config.HiddenSize);
        double[][] Cycle(int warmup, int rounds, params Action[] steps) => RunCycle(options, time, warmup, rounds, steps, cancellationToken);

        var absolute = await MeasureAbsoluteAsync(modelDirectory, model, options, Hidden, Cycle, status, cancellationToken).ConfigureAwait(false);

        status?.Invoke("emulated link");
        var delayedStepExtra = await DelayedStepExtraAsync(modelDirectory, config, Hidden, Cycle, options, cancellationToken).ConfigureAwait(false);

        status?.Invoke("concurrency slowdown");
        var slowdown = new List<RuntimeProfilePoint> { new(1, 1) };
        var context = Math.Min(32, options.ContextTokens.Max());
        var alone = ConcurrentStepSeconds(model, 1, context, Hidden, options, time);
        foreach (var sessions in options.Concurrency.Where(s => s > 1).Distinct().Order())
        {
            slowdown.Add(new RuntimeProfilePoint(sessions, Math.Max(1, ConcurrentStepSeconds(model, sessions, context, Hidden, options, time) / alone)));
        }

        status?.Invoke("concurrent prefills");
        var prefillConcurrency = new List<RuntimeProfilePoint> { new(1, 1) };
        var prefillTokens = SessionOpenPromptTokens;
        var prefillAlone = ConcurrentPrefillSeconds(model, 1, prefillTokens, Hidden, options, time);
        foreach (var sessions in options.Concurrency.Where(s => s > 1).Distinct().Order())
        {
            prefillConcurrency.Add(new RuntimeProfilePoint(sessions, Math.Max(1, ConcurrentPrefillSeconds(model, sessions, prefillTokens, Hidden, options, time) / prefillAlone)));
        }

        status?.Invoke("batched decode step");
        // Each batch size in every round, each followed by a head (as the clients' heads run between a server's steps).
        var batchRows = options.Concurrency.Append(1).Append(8).Distinct().Order().ToArray();
        var batches = new List<DecodeBatchFixture>();
        double[][] batchSamples;
        try
        {
            foreach (var rows in batchRows)
            {
                batches.Add(new DecodeBatchFixture(model, rows, context, Hidden));
            }

            batchSamples = Cycle(
                Math.Max(3, options.WarmupIterations / 4),
                0,
                [.. batches.SelectMany(batch => new Action[] { batch.Step, () => model.ComputeLastLogits(model.Embed([1]), 1) })]);
        }
        finally
        {
            foreach (var batch in batches)
            {
                batch.Release();
            }
        }

        var oneRow = Samples.Median(batchSamples[0]);
        var batchCost = batchRows.Select((rows, i) => new RuntimeProfilePoint(rows, i == 0 ? 1 : Math.Max(1, Samples.Median(batchSamples[2 * i]) / oneRow))).ToList();

        return new RuntimeProfile
        {
            Model = config.Architecture.Name,
            LayerCount = layers,
            Machine = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} logical processors, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}"),
            Repetitions = options.Repetitions,
            WarmupIterations = options.WarmupIterations,
            PrefillSecondsPerBlock = absolute.Prefill,
            DecodeSecondsPerBlock = absolute.Decode,
            HeadPrefillSeconds = absolute.HeadPrefill,
            HeadDecodeSeconds = absolute.HeadDecode,
            HopOverheadSeconds = absolute.Hop,
            ConcurrencySlowdown = slowdown,
            DecodeBatchCost = batchCost,
            LogicalProcessors = Environment.ProcessorCount,
            DecodeBatchWaitSeconds = new DecodeBatchOptions().BatchWait.TotalSeconds,
            DecodeReturnWaitSeconds = new DecodeBatchOptions().MaxReturnWait.TotalSeconds,
            DelayedStepExtraPerBlock = delayedStepExtra,
            SessionOpenSeconds = absolute.SessionOpen,
            PrefillConcurrency = prefillConcurrency,
        }.Validate("the measured profile");
    }

    /// <summary>
    /// Measures again the absolute costs of <paramref name="profile"/> on <paramref name="model"/> (the model of
    /// <paramref name="modelDirectory"/>, loaded): prefill and decode per block, the heads, the hop overhead and the session
    /// opening, as <see cref="MeasureAsync"/> does; the ratios (concurrency, batching) and the emulated link's extra are
    /// kept. For a prediction made moments before the runs it predicts, in the process and under the load they will run
    /// in: the speed of a shared host drifts by tens of percent over minutes.
    /// </summary>
    /// <exception cref="StrataException">The profile was measured on a model with another block count.</exception>
    public static async Task<RuntimeProfile> RefreshAsync(
        string modelDirectory, LlamaModel model, RuntimeProfile profile, RuntimeProfilerOptions options, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (model.Config.LayerCount != profile.LayerCount)
        {
            throw new StrataException($"The profile has {profile.LayerCount} blocks and the model {model.Config.LayerCount}; refresh a profile with the model it was measured on.");
        }

        time ??= TimeProvider.System;
        var random = new Random(17);
        float[] Hidden(int tokens) => RandomHidden(random, tokens, model.Config.HiddenSize);
        double[][] Cycle(int warmup, int rounds, params Action[] steps) => RunCycle(options, time, warmup, rounds, steps, cancellationToken);
        var absolute = await MeasureAbsoluteAsync(modelDirectory, model, options, Hidden, Cycle, status: null, cancellationToken).ConfigureAwait(false);
        return absolute.ApplyTo(profile).Validate("the refreshed profile");
    }

    // The costs a refresh measures again: the compute curves and heads, the hop overhead, the session opening.
    private sealed record AbsoluteCosts(
        List<RuntimeProfilePoint> Prefill, List<RuntimeProfilePoint> Decode, double HeadPrefill, double HeadDecode, double Hop, double SessionOpen)
    {
        public RuntimeProfile ApplyTo(RuntimeProfile profile) => profile with
        {
            PrefillSecondsPerBlock = Prefill,
            DecodeSecondsPerBlock = Decode,
            HeadPrefillSeconds = HeadPrefill,
            HeadDecodeSeconds = HeadDecode,
            HopOverheadSeconds = Hop,
            SessionOpenSeconds = SessionOpen,
        };
    }

    private static async Task<AbsoluteCosts> MeasureAbsoluteAsync(
        string modelDirectory, LlamaModel model, RuntimeProfilerOptions options, Func<int, float[]> hidden, Func<int, int, Action[], double[][]> cycle, Action<string>? status,
        CancellationToken cancellationToken)
    {
        var (prefill, decode, headPrefill, headDecode) = MeasureCompute(model, options, hidden, cycle, status);
        status?.Invoke("gRPC hop overhead");
        var hop = await HopOverheadAsync(modelDirectory, model.Config, hidden, cycle, options, cancellationToken).ConfigureAwait(false);
        status?.Invoke("session opening");
        var sessionOpen = await SessionOpenAsync(modelDirectory, model.Config, model, hop, cycle, options, cancellationToken).ConfigureAwait(false);
        return new AbsoluteCosts(prefill, decode, headPrefill, headDecode, hop, sessionOpen);
    }

    /// <summary>
    /// The point-by-point median of several measurements of one machine's costs (<see cref="MeasureAsync"/> and
    /// <see cref="RefreshAsync"/>s): the curves, the heads, the hop overhead and the session opening (of an even count,
    /// the mean of the middle two; of two, their mean); the rest is the first profile's. A slow spell of a shared host
    /// that lands on one measurement does not move the median of three.
    /// </summary>
    /// <exception cref="StrataException">The profiles are of different models or measure different sizes.</exception>
    public static RuntimeProfile Median(IReadOnlyList<RuntimeProfile> profiles)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        if (profiles.Count == 0)
        {
            throw new StrataException("No profile to take the median of.");
        }

        var first = profiles[0];
        if (profiles.Count == 1)
        {
            return first;
        }

        static string Sizes(IReadOnlyList<RuntimeProfilePoint> points) => string.Join(',', points.Select(p => p.Size));
        if (profiles.Any(p => p.LayerCount != first.LayerCount || Sizes(p.PrefillSecondsPerBlock) != Sizes(first.PrefillSecondsPerBlock)
            || Sizes(p.DecodeSecondsPerBlock) != Sizes(first.DecodeSecondsPerBlock)))
        {
            throw new StrataException("The profiles to combine measure different models or sizes; take the median of measurements of one model with one set of sizes.");
        }

        List<RuntimeProfilePoint> Curve(Func<RuntimeProfile, IReadOnlyList<RuntimeProfilePoint>> points) =>
            [.. points(first).Select((point, i) => new RuntimeProfilePoint(point.Size, Samples.Median(profiles.Select(p => points(p)[i].Value))))];

        return (first with
        {
            PrefillSecondsPerBlock = Curve(p => p.PrefillSecondsPerBlock),
            DecodeSecondsPerBlock = Curve(p => p.DecodeSecondsPerBlock),
            HeadPrefillSeconds = Samples.Median(profiles.Select(p => p.HeadPrefillSeconds)),
            HeadDecodeSeconds = Samples.Median(profiles.Select(p => p.HeadDecodeSeconds)),
            HopOverheadSeconds = Samples.Median(profiles.Select(p => p.HopOverheadSeconds)),
            SessionOpenSeconds = Samples.Median(profiles.Select(p => p.SessionOpenSeconds)),
        }).Validate("the median profile");
    }

    // Blocks and head in turn, as a generation runs them: the head's pass over the embedding table and the blocks' passes
    // over their weights evict each other from the caches, which back-to-back runs of one part would not see (on the
    // 2-core Xeon the head measured 1.8 ms back to back and 3.2 ms between decode steps). Every size of a curve is
    // measured in each round, so a slow spell of the host lands on the whole curve, not on a few points of it.
    private static (List<RuntimeProfilePoint> Prefill, List<RuntimeProfilePoint> Decode, double HeadPrefill, double HeadDecode) MeasureCompute(
        LlamaModel model, RuntimeProfilerOptions options, Func<int, float[]> hidden, Func<int, int, Action[], double[][]> cycle, Action<string>? status)
    {
        var config = model.Config;
        var layers = config.LayerCount;
        status?.Invoke("prefill per block");
        var promptSizes = options.PromptTokens.Distinct().Order().ToArray();
        var prefillSteps = new List<Action>();
        foreach (var n in promptSizes)
        {
            var input = hidden(n);
            var promptForHead = Enumerable.Range(0, n).Select(i => i % config.VocabularySize).ToArray();
            prefillSteps.Add(() =>
            {
                var session = model.CreateSession();
                model.ForwardBlocks(session, 0, layers, (float[])input.Clone(), n);
                session.Release();
            });
            prefillSteps.Add(() => model.ComputeLastLogits(model.Embed(promptForHead), n));
        }

        var prefillSamples = cycle(Math.Max(3, options.WarmupIterations / 4), 0, [.. prefillSteps]);
        var prefill = promptSizes.Select((n, i) => new RuntimeProfilePoint(n, Samples.Median(prefillSamples[2 * i]) / layers)).ToList();
        var headPrefill = Samples.Median(promptSizes.SelectMany((_, i) => prefillSamples[(2 * i) + 1])); // the head's cost hardly depends on the prompt's length

        status?.Invoke("decode per block");
        var contextSizes = options.ContextTokens.Distinct().Order().ToArray();
        var decodeSessions = new List<InferenceSession>();
        var decodeSteps = new List<Action>();
        foreach (var c in contextSizes)
        {
            var session = model.CreateSession();
            decodeSessions.Add(session);
            if (c > 1)
            {
                model.ForwardBlocks(session, 0, layers, hidden(c - 1), c - 1);
            }

            var input = hidden(1);
            decodeSteps.Add(() =>
            {
                session.Truncate(c - 1);
                model.ForwardBlocks(session, 0, layers, (float[])input.Clone(), 1);
            });
            decodeSteps.Add(() => model.ComputeLastLogits(model.Embed([1]), 1));
        }

        double[][] decodeSamples;
        try
        {
            decodeSamples = cycle(options.WarmupIterations, 0, [.. decodeSteps]);
        }
        finally
        {
            foreach (var session in decodeSessions)
            {
                session.Release();
            }
        }

        var decode = contextSizes.Select((c, i) => new RuntimeProfilePoint(c, Samples.Median(decodeSamples[2 * i]) / layers)).ToList();
        var headDecode = Samples.Median(contextSizes.SelectMany((_, i) => decodeSamples[(2 * i) + 1]));
        return (prefill, decode, headPrefill, headDecode);
    }

    // The steps of a cycle run in turn, each timed on its own: `warmup` untimed rounds, then `rounds` timed ones (0: the
    // options' repetitions). Per step, its samples in seconds.
    private static double[][] RunCycle(RuntimeProfilerOptions options, TimeProvider time, int warmup, int rounds, Action[] steps, CancellationToken cancellationToken)
    {
        rounds = rounds > 0 ? rounds : options.Repetitions;
        for (var i = 0; i < warmup; i++)
        {
            foreach (var step in steps)
            {
                step();
            }
        }

        var samples = steps.Select(_ => new double[rounds]).ToArray();
        for (var i = 0; i < rounds; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (var s = 0; s < steps.Length; s++)
            {
                var start = time.GetTimestamp();
                steps[s]();
                samples[s][i] = time.GetElapsedTime(start).TotalSeconds;
            }
        }

        return samples;
    }

    // Random activations of `tokens` rows, in [-1, 1).
    private static float[] RandomHidden(Random random, int tokens, int hiddenSize) =>
        [.. Enumerable.Range(0, tokens * hiddenSize).Select(_ => (float)((random.NextDouble() * 2) - 1))];

    // A one-token step of block 0 through a block server on loopback less the same step in process, the two in turn: the
    // median of the paired differences (a slow spell of the host lands on both halves of a pair, not on one median).
    private static async Task<double> HopOverheadAsync(
        string modelDirectory, LlamaConfig config, Func<int, float[]> hidden, Func<int, int, Action[], double[][]> cycle, RuntimeProfilerOptions options, CancellationToken cancellationToken)
    {
        const int Context = 16;
        var served = new LlamaModel(config, LlamaWeightsLoader.Load(modelDirectory, config, 0, 1, includeEmbeddingAndHead: false));
        var local = served.CreateSession();
        served.ForwardBlocks(local, 0, 1, hidden(Context - 1), Context - 1);
        var input = hidden(1);
        await using var host = await BlockServerHost.StartAsync(served, cancellationToken: cancellationToken).ConfigureAwait(false);
        using var client = new BlockServerClient(host.Address);
        const string Session = "profile";
        await client.ForwardAsync(Session, 0, 1, 0, hidden(Context - 1), Context - 1, config.HiddenSize, cancellationToken).ConfigureAwait(false);
        var samples = cycle(options.WarmupIterations, 4 * options.Repetitions, [
            () =>
            {
                local.Truncate(Context - 1);
                served.ForwardBlocks(local, 0, 1, (float[])input.Clone(), 1);
            },
            () => client.ForwardAsync(Session, 0, 1, Context - 1, (float[])input.Clone(), 1, config.HiddenSize, cancellationToken).GetAwaiter().GetResult(),
        ]);
        await client.CloseSessionAsync(Session, cancellationToken).ConfigureAwait(false);
        local.Release();
        return Math.Max(0, PairedDifference(samples[1], samples[0]));
    }

    /// <summary>Prompt tokens of the generations that <see cref="SessionOpenAsync"/> times.</summary>
    public const int SessionOpenPromptTokens = 16;

    // What opening a coordinated session costs beyond its routing calls and one hop (each a hop overhead): the first token
    // of a generation through a coordinator and one block server holding every block, less the same generation in
    // process (the two in turn, the median of the paired differences) and three hop overheads. Spot checks off (one
    // server: nothing to check against).
    private static async Task<double> SessionOpenAsync(
        string modelDirectory, LlamaConfig config, LlamaModel model, double hopOverheadSeconds, Func<int, int, Action[], double[][]> cycle, RuntimeProfilerOptions options, CancellationToken cancellationToken)
    {
        var prompt = Enumerable.Range(0, SessionOpenPromptTokens).Select(i => 3 + (i % (config.VocabularySize - 3))).ToArray();
        var generation = new GenerationOptions { MaxNewTokens = 2 };
        var warmup = Math.Max(3, options.WarmupIterations / 8);
        var local = new TextGenerator(model, new LocalBlockChain(model));
        // The default heartbeat (2 s): a 100 ms one let a loaded machine drop the only server mid-measurement (no route).
        await using var coordinator = await CoordinatorHost.StartAsync(options: new CoordinatorOptions(), cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        using var client = new CoordinatorClient(coordinator.Address);
        await using var host = await BlockServerHost.StartAsync(new LlamaModel(config, LlamaWeightsLoader.Load(modelDirectory, config, 0, config.LayerCount, includeEmbeddingAndHead: false)),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        await using var agent = await BlockServerAgent.StartAsync(host, client, config.Architecture.Name, config.LayerCount, new BlockServerAgentOptions { ServerId = "profile" },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        var clientModel = new LlamaModel(config, LlamaWeightsLoader.Load(modelDirectory, config, 0, 0));
        using var chain = new CoordinatedBlockChain(client, clientModel, new CoordinatedChainOptions { ExpectedOutputTokens = 2, VerifyFraction = 0 });
        var coordinated = new TextGenerator(clientModel, chain);
        var samples = cycle(warmup, 3 * options.Repetitions, [
            () => local.GenerateAsync(prompt, generation, cancellationToken).GetAwaiter().GetResult(),
            () => coordinated.GenerateAsync(prompt, generation, cancellationToken).GetAwaiter().GetResult(),
        ]);
        return Math.Max(0, PairedDifference(samples[1], samples[0]) - (3 * hopOverheadSeconds));
    }

    /// <summary>The emulated round trips, milliseconds, at which <see cref="DelayedStepExtraAsync"/> measures a delayed step's extra.</summary>
    public static readonly IReadOnlyList<int> EmulatedLinkProbesMs = [5, 20, 80];

    // What a delayed reply costs a compute step beyond what it costs a small call, per block, by the delay: an Info call
    // and then a one-token step of the first blocks (at most ProbeBlocks: a server per delay holds them) through a server
    // without and with each emulated round trip, all in turn; per delay the median over rounds of
    // ((step delayed - step) - (info delayed - info)) / blocks.
    private static async Task<List<RuntimeProfilePoint>> DelayedStepExtraAsync(
        string modelDirectory, LlamaConfig config, Func<int, float[]> hidden, Func<int, int, Action[], double[][]> cycle, RuntimeProfilerOptions options, CancellationToken cancellationToken)
    {
        const int Context = 16;
        const string Session = "profile-link";
        const int ProbeBlocks = 4;
        var layers = Math.Min(ProbeBlocks, config.LayerCount);
        var warmup = Math.Max(3, options.WarmupIterations / 4);
        var input = hidden(1);
        var prefix = hidden(Context - 1);
        var hosts = new List<BlockServerHost>();
        var clients = new List<BlockServerClient>();
        try
        {
            foreach (var rttMs in EmulatedLinkProbesMs.Prepend(0))
            {
                var served = new LlamaModel(config, LlamaWeightsLoader.Load(modelDirectory, config, 0, layers, includeEmbeddingAndHead: false));
                hosts.Add(await BlockServerHost.StartAsync(served, limits: new BlockServerLimits { EmulatedRtt = TimeSpan.FromMilliseconds(rttMs) }, cancellationToken: cancellationToken)
                    .ConfigureAwait(false));
                clients.Add(new BlockServerClient(hosts[^1].Address));
                await clients[^1].ForwardAsync(Session, 0, layers, 0, (float[])prefix.Clone(), Context - 1, config.HiddenSize, cancellationToken).ConfigureAwait(false);
            }

            Action Step(BlockServerClient client) => () =>
                client.ForwardAsync(Session, 0, layers, Context - 1, (float[])input.Clone(), 1, config.HiddenSize, cancellationToken).GetAwaiter().GetResult();
            Action Info(BlockServerClient client) => () => client.InfoAsync(cancellationToken).GetAwaiter().GetResult();
            // Per server an Info call, then a step: the step's compute follows an idle of that server's own delay (the
            // interceptor delays a reply after the work), as a generation's step follows the previous reply's delay.
            var samples = cycle(warmup, 2 * options.Repetitions, [.. clients.SelectMany(client => new[] { Info(client), Step(client) })]);
            double Sample(int server, bool step, int round) => samples[(2 * server) + (step ? 1 : 0)][round];
            var points = new List<RuntimeProfilePoint>();
            for (var d = 1; d < clients.Count; d++)
            {
                var extra = samples[0].Select((_, i) => ((Sample(d, true, i) - Sample(0, true, i)) - (Sample(d, false, i) - Sample(0, false, i))) / layers).ToArray();
                points.Add(new RuntimeProfilePoint(EmulatedLinkProbesMs[d - 1], Math.Max(0, Samples.Median(extra))));
            }

            foreach (var client in clients)
            {
                await client.CloseSessionAsync(Session, cancellationToken).ConfigureAwait(false);
            }

            return points;
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }

            foreach (var host in hosts)
            {
                await host.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    // The median of the differences of samples taken in pairs.
    private static double PairedDifference(double[] minuend, double[] subtrahend) => Samples.Median(minuend.Select((x, i) => x - subtrahend[i]));

    // `sessions` prefills of `tokens` tokens through every block started at once on the thread pool (as a server's calls
    // run): the median over rounds of their mean completion time.
    private static double ConcurrentPrefillSeconds(LlamaModel model, int sessions, int tokens, Func<int, float[]> hidden, RuntimeProfilerOptions options, TimeProvider time)
    {
        var layers = model.Config.LayerCount;
        var inputs = Enumerable.Range(0, sessions).Select(_ => hidden(tokens)).ToArray();
        var warmup = Math.Max(2, options.WarmupIterations / 8);
        var means = new List<double>();
        for (var round = 0; round < warmup + options.Repetitions; round++)
        {
            var start = time.GetTimestamp();
            var done = Task.WhenAll(inputs.Select(input => Task.Run(() =>
            {
                var session = model.CreateSession();
                model.ForwardBlocks(session, 0, layers, (float[])input.Clone(), tokens);
                session.Release();
                return time.GetElapsedTime(start).TotalSeconds;
            }))).GetAwaiter().GetResult();
            if (round >= warmup)
            {
                means.Add(done.Average());
            }
        }

        means.Sort();
        return means[means.Count / 2];
    }

    // One batched decode step of every block for `rows` sessions at `context` (one pass over the weights), on this thread:
    // what a block server's batched step costs.
    private sealed class DecodeBatchFixture
    {
        private readonly LlamaModel _model;
        private readonly int _context;
        private readonly InferenceSession[] _sessions;
        private readonly float[][] _tokens;

        public DecodeBatchFixture(LlamaModel model, int rows, int context, Func<int, float[]> hidden)
        {
            _model = model;
            _context = context;
            _sessions = [.. Enumerable.Range(0, rows).Select(_ => model.CreateSession())];
            foreach (var session in _sessions)
            {
                model.ForwardBlocks(session, 0, model.Config.LayerCount, hidden(context - 1), context - 1);
            }

            _tokens = [.. _sessions.Select(_ => hidden(1))];
        }

        public void Step()
        {
            foreach (var session in _sessions)
            {
                session.Truncate(_context - 1);
            }

            _model.ForwardDecodeBatch([.. _sessions.Select((s, i) => new DecodeRow(s, (float[])_tokens[i].Clone()))], 0, _model.Config.LayerCount);
        }

        public void Release()
        {
            foreach (var session in _sessions)
            {
                session.Release();
            }
        }
    }

    private static double ConcurrentStepSeconds(LlamaModel model, int sessions, int context, Func<int, float[]> hidden, RuntimeProfilerOptions options, TimeProvider time)
    {
        var layers = model.Config.LayerCount;
        var steps = options.Repetitions + Math.Max(3, options.WarmupIterations / 4);
        var inputs = Enumerable.Range(0, sessions).Select(_ => (Prefix: hidden(context - 1), Token: hidden(1))).ToArray();
        var samples = new double[sessions][];
        using var start = new Barrier(sessions);
        // Through a decode batcher with the block servers' default bounds: concurrent one-token steps are batched there
        // (one pass over the weights), so their slowdown is the batched step's, not that of independent passes.
        var batcher = new DecodeBatcher(model, new DecodeBatchOptions());
        try
        {
            var threads = Enumerable.Range(0, sessions).Select(s => new Thread(() =>
            {
                var session = model.CreateSession();
                model.ForwardBlocks(session, 0, layers, (float[])inputs[s].Prefix.Clone(), context - 1);
                var times = new double[steps];
                start.SignalAndWait();
                for (var i = 0; i < steps; i++)
                {
                    var begin = time.GetTimestamp();
                    session.Truncate(context - 1);
                    batcher.ForwardAsync(session, 0, layers, (float[])inputs[s].Token.Clone()).GetAwaiter().GetResult();
                    times[i] = time.GetElapsedTime(begin).TotalSeconds;
                }

                session.Release();
                samples[s] = times;
            })).ToArray();
            foreach (var thread in threads)
            {
                thread.Start();
            }

            foreach (var thread in threads)
            {
                thread.Join();
            }
        }
        finally
        {
            batcher.DisposeAsync().AsTask().GetAwaiter().GetResult(); // its worker thread roots the model
        }

        // The middle steps of every session (the first and last overlap less), pooled; their median.
        var skip = steps / 4;
        var pooled = samples.SelectMany(t => t.Skip(skip).Take(steps - (2 * skip))).Order().ToArray();
        return pooled[pooled.Length / 2];
    }
}
