using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Strata.Core.Identity;
using Strata.Core.Models;
using Strata.Runtime.Engine;
using Strata.Runtime.Serving;
using Strata.Runtime.Weights;

namespace Strata.Benchmarks.Runtime;

/// <summary>
/// Block servers on loopback: the cost of one gRPC hop for one token's hidden state, and moving the KV cache
/// of a 1,000-token prompt from one server to another (phase split), against raw loopback TCP. The model has the small preset's
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
    private BlockServerHost _coldDecode = null!;
    private BlockServerClient _prefillClient = null!;
    private BlockServerClient _decodeClient = null!;
    private BlockServerClient _coldDecodeClient = null!;
    private float[] _hidden = null!;
    private IReadOnlyList<KvCacheSnapshot> _snapshots = null!;
    private Socket _loopbackSender = null!;
    private Socket _loopbackReceiver = null!;
    private byte[] _loopbackPayload = null!;
    private byte[] _loopbackSink = null!;

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
        _coldDecode = BlockServerHost.StartAsync(_model, limits: new BlockServerLimits { KvPoolBytes = 0 }).GetAwaiter().GetResult();
        _prefillClient = new BlockServerClient(_prefill.Address);
        _decodeClient = new BlockServerClient(_decode.Address);
        _coldDecodeClient = new BlockServerClient(_coldDecode.Address);
        var prompt = _model.Embed([.. Enumerable.Range(0, PromptTokens).Select(i => i % 256)]);
        _prefillClient.ForwardAsync("kv", 0, config.LayerCount, 0, prompt, PromptTokens, config.HiddenSize).GetAwaiter().GetResult();
        _hidden = _model.Embed([7]);
        _snapshots = _prefillClient.ExportKvAsync("kv", 0, config.LayerCount).GetAwaiter().GetResult();

        // A raw TCP connection on 127.0.0.1 for the loopback bandwidth the KV move is compared with.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        _loopbackSender = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _loopbackSender.Connect(listener.LocalEndPoint!);
        _loopbackReceiver = listener.Accept();
        _loopbackPayload = new byte[KvBytes];
        Random.Shared.NextBytes(_loopbackPayload);
        _loopbackSink = new byte[1 << 20];
    }

    /// <summary>Bytes of the KV cache of the prompt: 12 blocks, keys and values, 1,000 tokens of width 256, fp32.</summary>
    public const int KvBytes = 12 * 2 * PromptTokens * 256 * sizeof(float);

    [GlobalCleanup]
    public void Cleanup()
    {
        _loopbackSender.Dispose();
        _loopbackReceiver.Dispose();
        _prefillClient.Dispose();
        _decodeClient.Dispose();
        _coldDecodeClient.Dispose();
        _prefill.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _decode.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _coldDecode.DisposeAsync().AsTask().GetAwaiter().GetResult();
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

    /// <summary>The same move streamed over gRPC: each block's message forwarded to the importer as it arrives, never decoded by the client.</summary>
    [Benchmark]
    public async Task<long> KvTransfer1000TokensStreamed() =>
        (await _prefillClient.StreamKvToAsync("kv", 0, 12, _decodeClient, "streamed")).Bytes;

    /// <summary>The same move on the bulk path (what <c>CopyKvToAsync</c> does when both servers have it): <c>OfferKv</c>, then <c>PullKv</c> reading raw TCP into the destination's caches, reused from the last iteration.</summary>
    [Benchmark]
    public async Task<long> KvTransfer1000TokensBulk() =>
        (await _prefillClient.CopyKvToAsync("kv", 0, 12, _decodeClient, "bulk")).Bytes;

    /// <summary>
    /// The bulk move into a fresh destination session, closed after the move, as in a phase split: the closed session's
    /// arrays go to the server's KV pool and the next iteration's session takes them (a decode server's steady state).
    /// </summary>
    [Benchmark]
    public async Task<long> KvTransfer1000TokensBulkFreshSession()
    {
        var bytes = (await _prefillClient.CopyKvToAsync("kv", 0, 12, _decodeClient, "bulk-fresh")).Bytes;
        await _decodeClient.CloseSessionAsync("bulk-fresh");
        return bytes;
    }

    /// <summary>
    /// The same into a server that keeps no pool (<see cref="BlockServerLimits.KvPoolBytes"/> 0): every session's cache
    /// is new memory, faulted in as the bytes land, as on a cold server or before the pool.
    /// </summary>
    [Benchmark]
    public async Task<long> KvTransfer1000TokensBulkFreshSessionNoPool()
    {
        var bytes = (await _prefillClient.CopyKvToAsync("kv", 0, 12, _coldDecodeClient, "bulk-cold")).Bytes;
        await _coldDecodeClient.CloseSessionAsync("bulk-cold");
        return bytes;
    }

    /// <summary>Half of <see cref="KvTransfer1000Tokens"/>: the export into snapshots alone.</summary>
    [Benchmark]
    public async Task<int> KvExport1000Tokens() => (await _prefillClient.ExportKvAsync("kv", 0, 12)).Count;

    /// <summary>The other half: importing the snapshots alone.</summary>
    [Benchmark]
    public async Task<long> KvImport1000Tokens() => (await _decodeClient.ImportKvAsync("imported", _snapshots)).Bytes;

    /// <summary>Loopback bandwidth: the same 24.6 MB sent over one raw TCP connection on 127.0.0.1 and received into a 1 MiB buffer.</summary>
    [Benchmark]
    public async Task<long> LoopbackTcp24MB()
    {
        var receive = Task.Run(async () =>
        {
            long received = 0;
            while (received < KvBytes)
            {
                received += await _loopbackReceiver.ReceiveAsync(_loopbackSink.AsMemory(0, (int)Math.Min(_loopbackSink.Length, KvBytes - received)), SocketFlags.None);
            }

            return received;
        });
        for (var sent = 0; sent < KvBytes;)
        {
            sent += await _loopbackSender.SendAsync(_loopbackPayload.AsMemory(sent), SocketFlags.None);
        }

        return await receive;
    }
}
