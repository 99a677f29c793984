using Grpc.Core;
using Strata.Core.Placement;
using Strata.Runtime.Engine;
using Strata.Runtime.Sampling;
using Strata.Runtime.Serving;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Tests.Serving;

[Trait("Category", "Integration")]
public sealed class BlockServerChainTests
{
    private static readonly int[] Prompt = [84, 104, 101, 32, 113, 117, 105, 99, 107];

    private static LlamaModel Load(int firstBlock, int blockCount, bool head)
    {
        var directory = TestModels.TinyDirectory();
        var config = ModelFolder.LoadConfig(directory);
        return new LlamaModel(config, LlamaWeightsLoader.Load(directory, config, firstBlock, blockCount, head));
    }

    private static async Task<IReadOnlyList<int>> LocalTokens(GenerationOptions options)
    {
        var model = TestModels.Tiny();
        return (await new TextGenerator(model, new LocalBlockChain(model)).GenerateAsync(Prompt, options)).Tokens;
    }

    public static TheoryData<int[]> Splits => [[4], [2, 2], [1, 2, 1], [1, 1, 2]];

    [Theory]
    [MemberData(nameof(Splits))]
    public async Task Generation_split_over_block_servers_gives_exactly_the_local_tokens(int[] ranges)
    {
        var hosts = new List<BlockServerHost>();
        try
        {
            var hops = new List<(Uri, BlockRange)>();
            var first = 0;
            foreach (var count in ranges)
            {
                var host = await BlockServerHost.StartAsync(Load(first, count, head: false));
                hosts.Add(host);
                hops.Add((host.Address, new BlockRange(first, count)));
                first += count;
            }

            var client = Load(0, 0, head: true); // embedding and head only
            using var chain = new RemoteBlockChain(hops, client.Config.LayerCount, client.Config.HiddenSize, "test");
            var generator = new TextGenerator(client, chain);
            foreach (var options in new[]
            {
                new GenerationOptions { MaxNewTokens = 10 },
                new GenerationOptions { MaxNewTokens = 10, Sampling = new SamplingOptions { Temperature = 1.3, TopP = 0.9, Seed = 5 } },
            })
            {
                var remote = await generator.GenerateAsync(Prompt, options);
                Assert.Equal(await LocalTokens(options), remote.Tokens);
                Assert.Equal(ranges.Length, remote.Route.Count);
            }
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData("snapshots")]
    [InlineData("streamed")]
    [InlineData("bulk")]
    public async Task Kv_cache_moved_from_a_prefill_server_to_a_decode_server_continues_exactly(string path)
    {
        await using var prefill = await BlockServerHost.StartAsync(Load(0, 4, head: false));
        await using var decode = await BlockServerHost.StartAsync(Load(0, 4, head: false));
        using var prefillClient = new BlockServerClient(prefill.Address);
        using var decodeClient = new BlockServerClient(decode.Address);
        var model = Load(0, 0, head: true);
        int h = model.Config.HiddenSize, layers = model.Config.LayerCount;

        var hidden = model.Embed(Prompt);
        await prefillClient.ForwardAsync("s", 0, layers, 0, hidden, Prompt.Length, h);
        var tokens = new List<int> { TokenSampler.ArgMax(model.ComputeLastLogits(hidden, Prompt.Length)) };
        var imported = path switch
        {
            "streamed" => await prefillClient.StreamKvToAsync("s", 0, layers, decodeClient, "s"),
            "bulk" => await prefillClient.CopyKvToAsync("s", 0, layers, decodeClient, "s"),
            _ => await decodeClient.ImportKvAsync("s", await prefillClient.ExportKvAsync("s", 0, layers)),
        };
        Assert.Equal(layers, imported.BlockCount);
        Assert.Equal(2L * layers * Prompt.Length * model.Config.KeyValueDimension * sizeof(float), imported.Bytes);
        Assert.True(await prefillClient.CloseSessionAsync("s"));

        for (var position = Prompt.Length; tokens.Count < 8; position++)
        {
            var step = model.Embed([tokens[^1]]);
            await decodeClient.ForwardAsync("s", 0, layers, position, step, 1, h);
            tokens.Add(TokenSampler.ArgMax(model.ComputeLastLogits(step, 1)));
        }

        Assert.Equal(await LocalTokens(new GenerationOptions { MaxNewTokens = 8 }), tokens);
    }

    [Fact]
    public async Task Replaying_from_an_earlier_position_recomputes_the_same_hidden_states()
    {
        await using var server = await BlockServerHost.StartAsync(Load(0, 4, head: false));
        using var client = new BlockServerClient(server.Address);
        var model = Load(0, 0, head: true);
        var first = model.Embed(Prompt);
        await client.ForwardAsync("r", 0, 4, 0, first, Prompt.Length, model.Config.HiddenSize);
        var again = model.Embed(Prompt);
        await client.ForwardAsync("r", 0, 4, 0, again, Prompt.Length, model.Config.HiddenSize);
        Assert.Equal(first, again);
        var gap = await Assert.ThrowsAsync<RpcException>(() => client.ForwardAsync("r", 0, 4, Prompt.Length + 3, model.Embed([1]), 1, model.Config.HiddenSize));
        Assert.Equal(StatusCode.FailedPrecondition, gap.StatusCode);
    }

    [Fact]
    public async Task Calls_outside_the_hosted_range_or_with_a_wrong_shape_are_invalid_arguments()
    {
        await using var server = await BlockServerHost.StartAsync(Load(1, 2, head: false));
        using var client = new BlockServerClient(server.Address);
        var info = await client.InfoAsync();
        Assert.Equal(1, info.FirstBlock);
        Assert.Equal(2, info.BlockCount);
        var outside = await Assert.ThrowsAsync<RpcException>(() => client.ForwardAsync("x", 0, 2, 0, new float[64], 1, 64));
        Assert.Equal(StatusCode.InvalidArgument, outside.StatusCode);
        Assert.Contains("hosts [1, 3)", outside.Status.Detail, StringComparison.Ordinal);
        var tooLong = await Assert.ThrowsAsync<RpcException>(() => client.ForwardAsync("x", 1, 2, 510, new float[3 * 64], 3, 64));
        Assert.Equal(StatusCode.OutOfRange, tooLong.StatusCode); // the tiny preset's context is 512 tokens
        var shape = await Assert.ThrowsAsync<RpcException>(() => client.ForwardAsync("x", 1, 2, 0, new float[48], 1, 48));
        Assert.Equal(StatusCode.InvalidArgument, shape.StatusCode);
        Assert.Contains("expected [tokens, 64]", shape.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Idle_sessions_time_out_and_free_their_kv_memory()
    {
        var clock = new ManualTimeProvider();
        await using var server = await BlockServerHost.StartAsync(Load(0, 4, head: false),
            limits: new BlockServerLimits { SessionIdleTimeout = TimeSpan.FromMinutes(1) }, timeProvider: clock);
        using var client = new BlockServerClient(server.Address);
        var model = Load(0, 0, head: true);
        await client.ForwardAsync("old", 0, 4, 0, model.Embed(Prompt), Prompt.Length, 64);
        clock.Advance(TimeSpan.FromSeconds(50));
        await client.ForwardAsync("new", 0, 4, 0, model.Embed(Prompt), Prompt.Length, 64);
        Assert.True((await client.InfoAsync()).KvBytes > 0);
        clock.Advance(TimeSpan.FromSeconds(20)); // "old" idle 70 s, "new" 20 s
        Assert.Equal(1, server.EvictIdleSessions());
        var info = await client.InfoAsync();
        Assert.Equal(1, info.SessionCount);
        var gone = await Assert.ThrowsAsync<RpcException>(() => client.ExportKvAsync("old", 0, 4));
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        Assert.Equal(4, (await client.ExportKvAsync("new", 0, 4)).Count);
    }

    [Fact]
    public async Task A_full_server_refuses_new_sessions_with_resource_exhausted()
    {
        await using var server = await BlockServerHost.StartAsync(Load(0, 4, head: false), limits: new BlockServerLimits { MaxSessions = 1 });
        using var client = new BlockServerClient(server.Address);
        var model = Load(0, 0, head: true);
        await client.ForwardAsync("a", 0, 4, 0, model.Embed([1]), 1, 64);
        var full = await Assert.ThrowsAsync<RpcException>(() => client.ForwardAsync("b", 0, 4, 0, model.Embed([1]), 1, 64));
        Assert.Equal(StatusCode.ResourceExhausted, full.StatusCode);
        Assert.True(await client.CloseSessionAsync("a"));
        await client.ForwardAsync("b", 0, 4, 0, model.Embed([1]), 1, 64);
    }
}
