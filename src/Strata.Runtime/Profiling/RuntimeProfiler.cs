using System.Globalization;
using Strata.Performance.Profiles;
using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Serving;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Profiling;

/// <summary>Measures Strata's CPU runtime on this machine (<c>strata profile runtime</c>) into a <see cref="RuntimeProfile"/>.</summary>
/// <remarks>
/// <para>Every point is the median of <see cref="RuntimeProfilerOptions.Repetitions"/> timed runs, after
/// <see cref="RuntimeProfilerOptions.WarmupIterations"/> untimed runs of the same call (so the JIT has tiered the kernels
/// up and the caches are warm). Block times are a forward pass through every block of the model divided by the block
/// count (the blocks have one shape).</para>
/// <list type="bullet">
/// <item>Prefill: a fresh session, <c>n</c> prompt tokens through every block.</item>
/// <item>Decode: a session holding <c>c - 1</c> tokens, one more through every block (truncated back between runs).</item>
/// <item>Head: embedding plus final norm and LM head of the last token (prefill: <c>n</c> tokens embedded; decode: one).</item>
/// <item>Hop overhead: a one-token step of block 0 through a block server on loopback (gRPC) less the same step run in
/// process.</item>
/// <item>Emulated link: a one-token step and a small call through a server whose replies are delayed
/// <see cref="EmulatedLinkProbe"/>, against the same without the delay: what the delay costs the step beyond the call.</item>
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
        float[] Hidden(int tokens) => [.. Enumerable.Range(0, tokens * config.HiddenSize).Select(_ => (float)((random.NextDouble() * 2) - 1))];

        double Median(int warmup, Action run)
        {
            for (var i = 0; i < warmup; i++)
            {
                run();
            }

            var samples = new double[options.Repetitions];
            for (var i = 0; i < samples.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var start = time.GetTimestamp();
                run();
                samples[i] = time.GetElapsedTime(start).TotalSeconds;
            }

            Array.Sort(samples);
            return samples[samples.Length / 2];
        }

        status?.Invoke("prefill per block");
        var prefill = new List<RuntimeProfilePoint>();
        foreach (var n in options.PromptTokens.Distinct().Order())
        {
            var input = Hidden(n);
            var seconds = Median(n == options.PromptTokens.Min() ? options.WarmupIterations : Math.Max(3, options.WarmupIterations / 8), () =>
            {
                var session = model.CreateSession();
                model.ForwardBlocks(session, 0, layers, (float[])input.Clone(), n);
                session.Release();
            });
            prefill.Add(new RuntimeProfilePoint(n, seconds / layers));
        }

        status?.Invoke("decode per block");
        var decode = new List<RuntimeProfilePoint>();
        foreach (var c in options.ContextTokens.Distinct().Order())
        {
            var session = model.CreateSession();
            if (c > 1)
            {
                model.ForwardBlocks(session, 0, layers, Hidden(c - 1), c - 1);
            }

            var input = Hidden(1);
            var seconds = Median(options.WarmupIterations, () =>
            {
                session.Truncate(c - 1);
                model.ForwardBlocks(session, 0, layers, (float[])input.Clone(), 1);
            });
            session.Release();
            decode.Add(new RuntimeProfilePoint(c, seconds / layers));
        }

        status?.Invoke("head");
        var promptForHead = Enumerable.Range(0, options.PromptTokens.Max()).Select(i => i % config.VocabularySize).ToArray();
        var headPrefill = Median(options.WarmupIterations, () =>
        {
            var hidden = model.Embed(promptForHead);
            _ = model.ComputeLastLogits(hidden, promptForHead.Length);
        });
        var headDecode = Median(options.WarmupIterations, () =>
        {
            var hidden = model.Embed([1]);
            _ = model.ComputeLastLogits(hidden, 1);
        });

        status?.Invoke("gRPC hop overhead");
        var hop = await HopOverheadAsync(modelDirectory, config, Hidden, Median, options, cancellationToken).ConfigureAwait(false);

        status?.Invoke("emulated link");
        var delayedStepExtra = await DelayedStepExtraAsync(modelDirectory, config, Hidden, Median, options, cancellationToken).ConfigureAwait(false);

        status?.Invoke("session opening");
        var sessionOpen = await SessionOpenAsync(modelDirectory, config, model, hop, Median, options, cancellationToken).ConfigureAwait(false);

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
        var batchCost = new List<RuntimeProfilePoint> { new(1, 1) };
        var oneRow = BatchedStepSeconds(model, 1, context, Hidden, Median, options);
        foreach (var rows in options.Concurrency.Append(8).Where(r => r > 1).Distinct().Order())
        {
            batchCost.Add(new RuntimeProfilePoint(rows, Math.Max(1, BatchedStepSeconds(model, rows, context, Hidden, Median, options) / oneRow)));
        }

        return new RuntimeProfile
        {
            Model = config.Architecture.Name,
            LayerCount = layers,
            Machine = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} logical processors, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}"),
            Repetitions = options.Repetitions,
            WarmupIterations = options.WarmupIterations,
            PrefillSecondsPerBlock = prefill,
            DecodeSecondsPerBlock = decode,
            HeadPrefillSeconds = headPrefill,
            HeadDecodeSeconds = headDecode,
            HopOverheadSeconds = hop,
            ConcurrencySlowdown = slowdown,
            DecodeBatchCost = batchCost,
            LogicalProcessors = Environment.ProcessorCount,
            DecodeBatchWaitSeconds = new DecodeBatchOptions().BatchWait.TotalSeconds,
            DecodeReturnWaitSeconds = new DecodeBatchOptions().MaxReturnWait.TotalSeconds,
            DelayedStepExtraSeconds = delayedStepExtra,
            SessionOpenSeconds = sessionOpen,
            PrefillConcurrency = prefillConcurrency,
        }.Validate("the measured profile");
    }

    private static async Task<double> HopOverheadAsync(
        string modelDirectory, LlamaConfig config, Func<int, float[]> hidden, Func<int, Action, double> median, RuntimeProfilerOptions options, CancellationToken cancellationToken)
    {
        const int Context = 16;
        var served = new LlamaModel(config, LlamaWeightsLoader.Load(modelDirectory, config, 0, 1, includeEmbeddingAndHead: false));
        var local = served.CreateSession();
        served.ForwardBlocks(local, 0, 1, hidden(Context - 1), Context - 1);
        var input = hidden(1);
        var inProcess = median(options.WarmupIterations, () =>
        {
            local.Truncate(Context - 1);
            served.ForwardBlocks(local, 0, 1, (float[])input.Clone(), 1);
        });

        await using var host = await BlockServerHost.StartAsync(served, cancellationToken: cancellationToken).ConfigureAwait(false);
        using var client = new BlockServerClient(host.Address);
        const string Session = "profile";
        await client.ForwardAsync(Session, 0, 1, 0, hidden(Context - 1), Context - 1, config.HiddenSize, cancellationToken).ConfigureAwait(false);
        var remote = median(options.WarmupIterations, () =>
            client.ForwardAsync(Session, 0, 1, Context - 1, (float[])input.Clone(), 1, config.HiddenSize, cancellationToken).GetAwaiter().GetResult());
        await client.CloseSessionAsync(Session, cancellationToken).ConfigureAwait(false);
        return Math.Max(0, remote - inProcess);
    }

    /// <summary>Prompt tokens of the generations that <see cref="SessionOpenAsync"/> times.</summary>
    public const int SessionOpenPromptTokens = 16;

    // What opening a coordinated session costs beyond its routing calls and one hop (each a hop overhead): the first token
    // of a generation through a coordinator and one block server holding every block, less the same generation in
    // process and three hop overheads. Spot checks off (one server: nothing to check against).
    private static async Task<double> SessionOpenAsync(
        string modelDirectory, LlamaConfig config, LlamaModel model, double hopOverheadSeconds, Func<int, Action, double> median, RuntimeProfilerOptions options, CancellationToken cancellationToken)
    {
        var prompt = Enumerable.Range(0, SessionOpenPromptTokens).Select(i => 3 + (i % (config.VocabularySize - 3))).ToArray();
        var generation = new GenerationOptions { MaxNewTokens = 2 };
        var warmup = Math.Max(3, options.WarmupIterations / 8);
        var local = new TextGenerator(model, new LocalBlockChain(model));
        var localTtft = median(warmup, () => local.GenerateAsync(prompt, generation, cancellationToken).GetAwaiter().GetResult());

        await using var coordinator = await CoordinatorHost.StartAsync(options: new CoordinatorOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(100) }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        using var client = new CoordinatorClient(coordinator.Address);
        await using var host = await BlockServerHost.StartAsync(new LlamaModel(config, LlamaWeightsLoader.Load(modelDirectory, config, 0, config.LayerCount, includeEmbeddingAndHead: false)),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        await using var agent = await BlockServerAgent.StartAsync(host, client, config.Architecture.Name, config.LayerCount, new BlockServerAgentOptions { ServerId = "profile" },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        var clientModel = new LlamaModel(config, LlamaWeightsLoader.Load(modelDirectory, config, 0, 0));
        using var chain = new CoordinatedBlockChain(client, clientModel, new CoordinatedChainOptions { ExpectedOutputTokens = 2, VerifyFraction = 0 });
        var coordinated = new TextGenerator(clientModel, chain);
        var coordinatedTtft = median(warmup, () => coordinated.GenerateAsync(prompt, generation, cancellationToken).GetAwaiter().GetResult());
        return Math.Max(0, coordinatedTtft - localTtft - (3 * hopOverheadSeconds));
    }

    /// <summary>The emulated round trip of <see cref="DelayedStepExtraAsync"/>.</summary>
    public static readonly TimeSpan EmulatedLinkProbe = TimeSpan.FromMilliseconds(20);

    // What a delayed reply costs a compute step beyond what it costs a small call: a one-token step of block 0 and an Info
    // call, each through a server without and with an emulated round trip; (step delayed - step) - (info delayed - info).
    private static async Task<double> DelayedStepExtraAsync(
        string modelDirectory, LlamaConfig config, Func<int, float[]> hidden, Func<int, Action, double> median, RuntimeProfilerOptions options, CancellationToken cancellationToken)
    {
        const int Context = 16;
        var warmup = Math.Max(3, options.WarmupIterations / 4);
        var input = hidden(1);
        var prefix = hidden(Context - 1);
        var seconds = new List<(double Step, double Info)>();
        foreach (var rtt in new[] { TimeSpan.Zero, EmulatedLinkProbe })
        {
            var served = new LlamaModel(config, LlamaWeightsLoader.Load(modelDirectory, config, 0, 1, includeEmbeddingAndHead: false));
            await using var host = await BlockServerHost.StartAsync(served, limits: new BlockServerLimits { EmulatedRtt = rtt }, cancellationToken: cancellationToken).ConfigureAwait(false);
            using var client = new BlockServerClient(host.Address);
            const string Session = "profile-link";
            await client.ForwardAsync(Session, 0, 1, 0, (float[])prefix.Clone(), Context - 1, config.HiddenSize, cancellationToken).ConfigureAwait(false);
            var step = median(warmup, () =>
                client.ForwardAsync(Session, 0, 1, Context - 1, (float[])input.Clone(), 1, config.HiddenSize, cancellationToken).GetAwaiter().GetResult());
            var info = median(warmup, () => client.InfoAsync(cancellationToken).GetAwaiter().GetResult());
            await client.CloseSessionAsync(Session, cancellationToken).ConfigureAwait(false);
            seconds.Add((step, info));
        }

        return Math.Max(0, (seconds[1].Step - seconds[0].Step) - (seconds[1].Info - seconds[0].Info));
    }

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

    // One batched decode step of every block for `rows` sessions at `context` (one pass over the weights), on this thread.
    private static double BatchedStepSeconds(LlamaModel model, int rows, int context, Func<int, float[]> hidden, Func<int, Action, double> median, RuntimeProfilerOptions options)
    {
        var layers = model.Config.LayerCount;
        var sessions = Enumerable.Range(0, rows).Select(_ => model.CreateSession()).ToArray();
        foreach (var session in sessions)
        {
            model.ForwardBlocks(session, 0, layers, hidden(context - 1), context - 1);
        }

        var tokens = sessions.Select(_ => hidden(1)).ToArray();
        var seconds = median(Math.Max(3, options.WarmupIterations / 4), () =>
        {
            foreach (var session in sessions)
            {
                session.Truncate(context - 1);
            }

            model.ForwardDecodeBatch([.. sessions.Select((s, i) => new DecodeRow(s, (float[])tokens[i].Clone()))], 0, layers);
        });
        foreach (var session in sessions)
        {
            session.Release();
        }

        return seconds;
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
