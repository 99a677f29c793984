using System.Globalization;
using BenchmarkDotNet.Attributes;
using Strata.Runtime.Engine;
using Strata.Runtime.Observability;
using Strata.Runtime.Serving;
using Strata.Runtime.Weights;
using Strata.Runtime.Weights.Gguf;

namespace Strata.Benchmarks.Runtime;

/// <summary>
/// Decode throughput of one block server holding all 12 blocks of the small preset (fp32, or Q8_0 or Q4_0 from a GGUF
/// file: <see cref="Weights"/>): one session alone against
/// eight sessions decoding at once, with batched decode on (<c>--max-batch 16</c>, the default 2 ms window) and off
/// (<c>--max-batch 1</c>). The eight-session cases count one operation per token, so aggregate tokens/s is 1 / mean.
/// </summary>
/// <remarks>
/// Each session holds <see cref="ContextTokens"/> tokens and every call decodes the token after them again (the server
/// replays from the start position it is sent), so the context stays the same however many iterations run. The client
/// sends seeded hidden states; embedding and head are not timed.
/// </remarks>
[MemoryDiagnoser]
[MedianColumn]
public class BatchedDecodeBenchmarks
{
    /// <summary>Tokens each session holds before the timed token.</summary>
    public const int ContextTokens = 64;

    /// <summary>Sessions decoding at once in the concurrent cases.</summary>
    public const int Sessions = 8;

    // Sessions the setup prefills: the eight of the cases, and more for the engine's batch-size sweep.
    private const int PrefilledSessions = 12;

    private string _directory = null!;
    private BlockServerHost _batched = null!;
    private BlockServerHost _windowOnly = null!;
    private BlockServerHost _unbatched = null!;
    private BlockServerClient _batchedClient = null!;
    private BlockServerClient _windowOnlyClient = null!;
    private BlockServerClient _unbatchedClient = null!;
    private float[][] _tokens = null!;
    private LlamaModel _model = null!;
    private InferenceSession[] _local = null!;
    private int _hiddenSize;
    private int _layers;

    /// <summary>Weight type of the blocks' matrices: F32 (safetensors, as the servers' default) or a GGUF block format.</summary>
    [Params(GgmlType.F32)]
    public GgmlType Weights { get; set; } = GgmlType.F32;

    [GlobalSetup]
    public void Setup()
    {
        var config = ModelPreset.Small.ToConfig();
        _hiddenSize = config.HiddenSize;
        _layers = config.LayerCount;
        _directory = Path.Combine(Path.GetTempPath(), $"strata-bench-small-{Environment.ProcessId}");
        if (Weights == GgmlType.F32)
        {
            RandomModelWriter.Write(_directory, config, 1, overwrite: true);
        }
        else
        {
            Directory.CreateDirectory(_directory);
            var tensors = RandomModelWriter.Generate(config, 1).ToDictionary(t => t.Name, t => t.Data);
            GgufModelWriter.Write(config, name => tensors[name], Path.Combine(_directory, GgufModelWriter.FileName), Weights);
        }

        var model = _model = new LlamaModel(config, LlamaWeightsLoader.Load(_directory, config, 0, config.LayerCount, includeEmbeddingAndHead: false));
        _batched = BlockServerHost.StartAsync(model, limits: new BlockServerLimits { MaxDecodeBatch = 16 }, telemetry: new TelemetryOptions { MetricsPort = 0 })
            .GetAwaiter().GetResult();
        _windowOnly = BlockServerHost.StartAsync(model, limits: new BlockServerLimits { MaxDecodeBatch = 16, DecodeReturnWait = TimeSpan.Zero },
            telemetry: new TelemetryOptions { MetricsPort = 0 }).GetAwaiter().GetResult();
        _unbatched = BlockServerHost.StartAsync(model, limits: new BlockServerLimits { MaxDecodeBatch = 1 }).GetAwaiter().GetResult();
        _batchedClient = new BlockServerClient(_batched.Address);
        _unbatchedClient = new BlockServerClient(_unbatched.Address);
        _windowOnlyClient = new BlockServerClient(_windowOnly.Address);

        var random = new Random(7);
        float[] Row(int tokens) => [.. Enumerable.Range(0, tokens * _hiddenSize).Select(_ => (float)(random.NextDouble() - 0.5))];
        _tokens = [.. Enumerable.Range(0, PrefilledSessions).Select(_ => Row(1))];
        _local = [.. Enumerable.Range(0, PrefilledSessions).Select(_ => model.CreateSession())];
        for (var s = 0; s < PrefilledSessions; s++)
        {
            var prompt = Row(ContextTokens);
            model.ForwardBlocks(_local[s], 0, _layers, prompt.ToArray(), ContextTokens);
            if (s >= Sessions)
            {
                continue;
            }

            _batchedClient.ForwardAsync(Id(s), 0, _layers, 0, prompt.ToArray(), ContextTokens, _hiddenSize).GetAwaiter().GetResult();
            _unbatchedClient.ForwardAsync(Id(s), 0, _layers, 0, prompt.ToArray(), ContextTokens, _hiddenSize).GetAwaiter().GetResult();
            _windowOnlyClient.ForwardAsync(Id(s), 0, _layers, 0, prompt.ToArray(), ContextTokens, _hiddenSize).GetAwaiter().GetResult();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // The mean batch the batching server ran (the timed steps and the warm-up alike), for the record.
        var (steps, tokens) = BatchingServerSteps();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"// batching server: {steps} decode steps, {tokens / steps:F2} sessions' tokens per step on average (one-session steps included)"));

        _batchedClient.Dispose();
        _unbatchedClient.Dispose();
        _windowOnlyClient.Dispose();
        _windowOnly.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _batched.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _unbatched.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Decode steps the batching server has run so far, and the sessions' tokens they carried (its batch-size histogram's count and sum).</summary>
    /// <param name="windowOnly">The server batching by the window alone (<see cref="EightSessionsWindowOnly"/>) rather than the default one.</param>
    public (double Steps, double Tokens) BatchingServerSteps(bool windowOnly = false)
    {
        using var http = new HttpClient();
        var text = http.GetStringAsync(new Uri((windowOnly ? _windowOnly : _batched).MetricsAddress!, "/metrics")).GetAwaiter().GetResult();
        double Sample(string name) => double.Parse(text.Split('\n').First(l => l.StartsWith(name + " ", StringComparison.Ordinal))[(name.Length + 1)..], CultureInfo.InvariantCulture);
        return (Sample("strata_block_decode_batch_size_count"), Sample("strata_block_decode_batch_size_sum"));
    }

    /// <summary>One session's decode token, nothing else running.</summary>
    [Benchmark(Baseline = true)]
    public Task OneSession() => Decode(_batchedClient, 0);

    /// <summary>Eight sessions' decode tokens at once through the batching server (per token).</summary>
    [Benchmark(OperationsPerInvoke = Sessions)]
    public Task EightSessionsBatched() => Task.WhenAll(Enumerable.Range(0, Sessions).Select(s => Decode(_batchedClient, s)));

    /// <summary>One session's decode token through the server batching by the window alone (as <see cref="OneSession"/> through the default one), nothing else running.</summary>
    public Task OneSessionWindowOnly() => Decode(_windowOnlyClient, 0);

    /// <summary>Eight sessions' decode tokens at once through a server batching by the 2 ms window alone, not waiting for sessions predicted back (the rule before issue 15's return wait; per token).</summary>
    [Benchmark(OperationsPerInvoke = Sessions)]
    public Task EightSessionsWindowOnly() => Task.WhenAll(Enumerable.Range(0, Sessions).Select(s => Decode(_windowOnlyClient, s)));

    /// <summary>Eight sessions' decode tokens at once with batching off (per token).</summary>
    [Benchmark(OperationsPerInvoke = Sessions)]
    public Task EightSessionsUnbatched() => Task.WhenAll(Enumerable.Range(0, Sessions).Select(s => Decode(_unbatchedClient, s)));

    /// <summary>One session's decode token in process (no server): the engine's cost alone.</summary>
    [Benchmark]
    public void InProcessOneSession()
    {
        _local[0].Truncate(ContextTokens);
        _model.ForwardBlocks(_local[0], 0, _layers, _tokens[0].ToArray(), 1);
    }

    /// <summary>Eight sessions' decode tokens as one <see cref="LlamaModel.ForwardDecodeBatch"/> in process (per token).</summary>
    [Benchmark(OperationsPerInvoke = Sessions)]
    public void InProcessEightBatched()
    {
        var rows = new DecodeRow[Sessions];
        for (var s = 0; s < Sessions; s++)
        {
            _local[s].Truncate(ContextTokens);
            rows[s] = new DecodeRow(_local[s], _tokens[s].ToArray());
        }

        _model.ForwardDecodeBatch(rows, 0, _layers);
    }

    /// <summary>One <see cref="LlamaModel.ForwardDecodeBatch"/> of the first <paramref name="sessions"/> sessions in process (at most 12).</summary>
    public void InProcessBatch(int sessions)
    {
        var rows = new DecodeRow[sessions];
        for (var s = 0; s < sessions; s++)
        {
            _local[s].Truncate(ContextTokens);
            rows[s] = new DecodeRow(_local[s], _tokens[s].ToArray());
        }

        _model.ForwardDecodeBatch(rows, 0, _layers);
    }

    private static string Id(int session) => $"s{session}";

    // A fresh copy each call: the reply overwrites the buffer it is given.
    private Task Decode(BlockServerClient client, int session) =>
        client.ForwardAsync(Id(session), 0, _layers, ContextTokens, _tokens[session].ToArray(), 1, _hiddenSize);
}
