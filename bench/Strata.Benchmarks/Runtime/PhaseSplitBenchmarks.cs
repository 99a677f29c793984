using BenchmarkDotNet.Attributes;
using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Protocol;
using Strata.Runtime.Serving;
using Strata.Runtime.Weights;

namespace Strata.Benchmarks.Runtime;

/// <summary>
/// Time to first token of a phase-split generation of the small preset on loopback: a 500-token prompt prefilled on a
/// prefill server, every block's KV cache moved to a decode server, one token decoded there. The KV moves either
/// stream layer by layer (one block per prefill call, each block's move starting as soon as it is done) or wait
/// for the whole hop.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class PhaseSplitBenchmarks
{
    /// <summary>Prompt tokens prefilled.</summary>
    public const int PromptTokens = 500;

    private readonly List<IAsyncDisposable> _servers = [];
    private string _directory = null!;
    private CoordinatorHost _coordinator = null!;
    private CoordinatorClient _coordinatorClient = null!;
    private LlamaModel _client = null!;
    private int[] _prompt = null!;

    /// <summary>Whether KV moves stream block by block (true) or hop by hop.</summary>
    [Params(true, false)]
    public bool StreamKvByBlock { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"strata-bench-phase-{Environment.ProcessId}");
        var config = ModelPreset.Small.ToConfig();
        RandomModelWriter.Write(_directory, config, 1, overwrite: true);
        _coordinator = CoordinatorHost.StartAsync().GetAwaiter().GetResult();
        _coordinatorClient = new CoordinatorClient(_coordinator.Address);
        foreach (var (id, role) in new[] { ("prefill", ServerRole.Prefill), ("decode", ServerRole.Decode) })
        {
            var model = new LlamaModel(config, LlamaWeightsLoader.Load(_directory, config, 0, config.LayerCount, includeEmbeddingAndHead: false));
            var host = BlockServerHost.StartAsync(model).GetAwaiter().GetResult();
            var agent = BlockServerAgent.StartAsync(host, _coordinatorClient, config.Architecture.Name, config.LayerCount, new BlockServerAgentOptions { ServerId = id, Role = role })
                .GetAwaiter().GetResult();
            _servers.Add(agent);
            _servers.Add(host);
        }

        _client = new LlamaModel(config, LlamaWeightsLoader.Load(_directory, config, 0, 0, includeEmbeddingAndHead: true));
        _prompt = [.. Enumerable.Range(0, PromptTokens).Select(i => 10 + (i % 200))];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var server in _servers)
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        _coordinatorClient.Dispose();
        _coordinator.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Prefill 500 tokens, move 12 blocks' KV caches (12.3 MB), decode one token.</summary>
    [Benchmark]
    public async Task<int> PhaseSplitFirstToken()
    {
        using var chain = new CoordinatedBlockChain(_coordinatorClient, _client, new CoordinatedChainOptions { PhaseSplit = true, StreamKvByBlock = StreamKvByBlock });
        var result = await new TextGenerator(_client, chain).GenerateAsync(_prompt, new GenerationOptions { MaxNewTokens = 1 });
        return result.Tokens[0];
    }
}
