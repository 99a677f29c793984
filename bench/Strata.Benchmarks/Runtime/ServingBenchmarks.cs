using BenchmarkDotNet.Attributes;
using Strata.Core.Identity;
using Strata.Core.Models;
using Strata.Runtime.Engine;
using Strata.Runtime.Serving;
using Strata.Runtime.Weights;

namespace Strata.Benchmarks.Runtime;

/// <summary>
/// Block servers on loopback: the cost of one gRPC hop for one token's hidden state, and moving the KV cache
/// of a 1,000-token prompt from one server to another (phase split). The model has the small preset's
/// width, heads and 12 blocks but an 8-wide MLP, so compute stays out of the way.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class ServingBenchmarks
{
    /// <summary>Prompt whose KV cache is moved.</summary>
    public const int PromptTokens = 1000;

    private string _directory = null!;
    private LlamaModel _model = null!;
    private InferenceSession _localSession = null!;
    private BlockServerHost _prefill = null!;
    private BlockServerHost _decode = null!;
    private BlockServerClient _prefillClient = null!;
    private BlockServerClient _decodeClient = null!;
    private float[] _hidden = null!;

    [GlobalSetup]
    public void Setup()
    {
        var config = new LlamaConfig
        {
            Architecture = new ModelArchitecture
            {
                Id = new ModelId("bench-wide"),
                Name = "bench-wide",
                HiddenSize = 768,
                LayerCount = 12,
                AttentionHeadCount = 12,
                KeyValueHeadCount = 4,
                IntermediateSize = 8,
                VocabularySize = 256,
                TiedEmbeddings = true,
                MaxContextTokens = 2048,
            }.Validate(),
        };
        _directory = Path.Combine(Path.GetTempPath(), $"strata-bench-wide-{Environment.ProcessId}");
        RandomModelWriter.Write(_directory, config, 1, overwrite: true);
        _model = ModelFolder.LoadModel(_directory);
        _localSession = _model.CreateSession();
        _prefill = BlockServerHost.StartAsync(_model).GetAwaiter().GetResult();
        _decode = BlockServerHost.StartAsync(_model).GetAwaiter().GetResult();
        _prefillClient = new BlockServerClient(_prefill.Address);
        _decodeClient = new BlockServerClient(_decode.Address);
        var prompt = _model.Embed([.. Enumerable.Range(0, PromptTokens).Select(i => i % 256)]);
        _prefillClient.ForwardAsync("kv", 0, config.LayerCount, 0, prompt, PromptTokens, config.HiddenSize).GetAwaiter().GetResult();
        _hidden = _model.Embed([7]);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _prefillClient.Dispose();
        _decodeClient.Dispose();
        _prefill.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _decode.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>One block on one token in-process: the compute inside <see cref="HopOneToken"/>.</summary>
    [Benchmark(Baseline = true)]
    public void LocalOneBlockOneToken()
    {
        _localSession.Truncate(0);
        _model.ForwardBlocks(_localSession, 0, 1, _hidden.ToArray(), 1);
    }

    /// <summary>The same block on the same token through a block server: request, forward, reply (3 KB each way).</summary>
    [Benchmark]
    public Task HopOneToken() => _prefillClient.ForwardAsync("hop", 0, 1, 0, _hidden.ToArray(), 1, 768);

    /// <summary>Export the 12 blocks' KV cache of the 1,000-token prompt from one server into snapshots, then import them into the other (24.6 MB of fp32).</summary>
    [Benchmark]
    public async Task<long> KvTransfer1000Tokens()
    {
        var snapshots = await _prefillClient.ExportKvAsync("kv", 0, 12);
        return (await _decodeClient.ImportKvAsync("moved", snapshots)).Bytes;
    }

    /// <summary>The same move streamed: each block's message forwarded to the importer as it arrives, never decoded by the client.</summary>
    [Benchmark]
    public async Task<long> KvTransfer1000TokensStreamed() =>
        (await _prefillClient.CopyKvToAsync("kv", 0, 12, _decodeClient, "streamed")).Bytes;
}
