using Grpc.Core;
using Strata.Core.Placement;
using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Protocol;
using Strata.Runtime.Sampling;
using Strata.Runtime.Serving;

namespace Strata.Runtime.Tests.Coordination;

[Trait("Category", "Integration")]
public sealed class CoordinatedChainTests
{
    private static readonly int[] Prompt = [84, 104, 101, 32, 113, 117, 105, 99, 107];

    private static readonly GenerationOptions Greedy = new() { MaxNewTokens = 12 };

    private static readonly GenerationOptions Sampled = new() { MaxNewTokens = 12, Sampling = new SamplingOptions { Temperature = 1.3, TopP = 0.9, Seed = 5 } };

    private static async Task<IReadOnlyList<int>> LocalTokens(GenerationOptions options)
    {
        var model = TestModels.Tiny();
        return (await new TextGenerator(model, new LocalBlockChain(model)).GenerateAsync(Prompt, options)).Tokens;
    }

    [Fact]
    public async Task Routed_generation_over_two_servers_gives_exactly_the_local_tokens()
    {
        await using var swarm = await TestSwarm.StartAsync();
        var first = await swarm.AddServerAsync("s1", 0, 2);
        var second = await swarm.AddServerAsync("s2", 2, 2);
        var client = TestSwarm.Load(0, 0, head: true);
        using var chain = new CoordinatedBlockChain(swarm.Client, client);
        foreach (var options in new[] { Greedy, Sampled })
        {
            var result = await new TextGenerator(client, chain).GenerateAsync(Prompt, options);
            Assert.Equal(await LocalTokens(options), result.Tokens);
            Assert.Equal([first.Address.ToString(), second.Address.ToString()], result.Route.Select(h => h.Server));
        }

        Assert.Equal(0, chain.Failovers);
    }

    [Fact]
    public async Task Concurrent_generations_through_one_chain_each_give_the_local_tokens()
    {
        await using var swarm = await TestSwarm.StartAsync();
        await swarm.AddServerAsync("s1", 0, 3);
        await swarm.AddServerAsync("s2", 3, 1);
        await swarm.AddServerAsync("s3", 0, 4);
        var client = TestSwarm.Load(0, 0, head: true);
        using var chain = new CoordinatedBlockChain(swarm.Client, client);
        var options = Enumerable.Range(0, 8).Select(i => Sampled with { Sampling = Sampled.Sampling with { Seed = (ulong)i } }).ToArray();
        var results = await Task.WhenAll(options.Select(o => Task.Run(() => new TextGenerator(client, chain).GenerateAsync(Prompt, o))));
        for (var i = 0; i < options.Length; i++)
        {
            Assert.Equal(await LocalTokens(options[i]), results[i].Tokens);
        }
    }

    [Fact]
    public async Task Thirty_two_concurrent_generations_through_a_three_server_swarm_finish_within_the_kv_budget_and_free_it()
    {
        await using var swarm = await TestSwarm.StartAsync();
        var limits = new BlockServerLimits { MaxKvBytes = 4 << 20 };
        BlockServerHost[] servers =
        [
            await swarm.AddServerAsync("s1", 0, 2, limits: limits),
            await swarm.AddServerAsync("s2", 2, 1, limits: limits),
            await swarm.AddServerAsync("s3", 3, 1, limits: limits),
        ];
        var client = TestSwarm.Load(0, 0, head: true);
        using var chain = new CoordinatedBlockChain(swarm.Client, client);
        var peakKvBytes = 0L;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peakKvBytes = Math.Max(peakKvBytes, servers.Max(s => s.KvBytes));
                await Task.Delay(1);
            }
        });
        var options = Enumerable.Range(0, 32).Select(i => Sampled with { MaxNewTokens = 16, Sampling = Sampled.Sampling with { Seed = (ulong)i } }).ToArray();
        var results = await Task.WhenAll(options.Select(o => Task.Run(() => new TextGenerator(client, chain).GenerateAsync(Prompt, o))));
        await sampling.CancelAsync();
        await sampler;

        for (var i = 0; i < options.Length; i++)
        {
            Assert.Equal(await LocalTokens(options[i]), results[i].Tokens);
        }

        Assert.InRange(peakKvBytes, 1, limits.MaxKvBytes);
        Assert.All(servers, s => Assert.Equal(0, s.SessionCount));
        Assert.All(servers, s => Assert.Equal(0, s.KvBytes));
    }

    [Fact]
    public async Task Killing_the_server_in_use_mid_generation_reroutes_replays_and_gives_the_same_tokens()
    {
        await using var swarm = await TestSwarm.StartAsync();
        var whole = await swarm.AddServerAsync("a-whole", 0, 4);
        var front = await swarm.AddServerAsync("b-front", 0, 2);
        var back = await swarm.AddServerAsync("c-back", 2, 2);
        var client = TestSwarm.Load(0, 0, head: true);
        // Round trips not measured: the one-hop route through a-whole must be the one chosen (and then killed). Measured
        // on a loaded machine, a slow probe of a-whole could send the session through front and back from the start,
        // and nothing in use would be killed.
        using var chain = new CoordinatedBlockChain(swarm.Client, client, new CoordinatedChainOptions { MeasureRtts = false });
        var interrupted = new InterruptingChain(chain, 4, () => swarm.KillAsync(whole));
        var result = await new TextGenerator(client, interrupted).GenerateAsync(Prompt, Sampled);
        Assert.Equal(await LocalTokens(Sampled), result.Tokens);
        Assert.True(chain.Failovers >= 1, $"expected a failover, got {chain.Failovers}");
        Assert.Equal([front.Address.ToString(), back.Address.ToString()], chain.Route.Select(h => h.Server));
    }

    [Fact]
    public async Task Killing_one_hop_of_two_reroutes_only_its_blocks()
    {
        await using var swarm = await TestSwarm.StartAsync();
        var front = await swarm.AddServerAsync("a-front", 0, 2);
        var back = await swarm.AddServerAsync("b-back", 2, 2);
        var spare = await swarm.AddServerAsync("c-spare", 2, 2);
        var client = TestSwarm.Load(0, 0, head: true);
        // Equal servers tie to the first by id only when loopback's round-trip noise stays out of the prices.
        using var chain = new CoordinatedBlockChain(swarm.Client, client, new CoordinatedChainOptions { MeasureRtts = false });
        var interrupted = new InterruptingChain(chain, 6, () => swarm.KillAsync(back));
        var result = await new TextGenerator(client, interrupted).GenerateAsync(Prompt, Greedy);
        Assert.Equal(await LocalTokens(Greedy), result.Tokens);
        Assert.Equal(1, chain.Failovers);
        Assert.Equal([new RouteHop(front.Address.ToString(), new BlockRange(0, 2)), new RouteHop(spare.Address.ToString(), new BlockRange(2, 2))], chain.Route);
    }

    [Fact]
    public async Task Phase_split_prefills_on_prefill_servers_then_decodes_on_decode_servers_with_the_same_tokens()
    {
        await using var swarm = await TestSwarm.StartAsync();
        var p1 = await swarm.AddServerAsync("p1", 0, 2, ServerRole.Prefill);
        var p2 = await swarm.AddServerAsync("p2", 2, 2, ServerRole.Prefill);
        var d1 = await swarm.AddServerAsync("d1", 0, 1, ServerRole.Decode);
        var d2 = await swarm.AddServerAsync("d2", 1, 3, ServerRole.Decode);
        var client = TestSwarm.Load(0, 0, head: true);
        using var chain = new CoordinatedBlockChain(swarm.Client, client, new CoordinatedChainOptions { PhaseSplit = true });
        var result = await new TextGenerator(client, chain).GenerateAsync(Prompt, Sampled);
        Assert.Equal(await LocalTokens(Sampled), result.Tokens);
        Assert.Equal([d1.Address.ToString(), d2.Address.ToString()], result.Route.Select(h => h.Server));
        Assert.Equal(0, p1.SessionCount + p2.SessionCount); // prefill sessions closed after the move
        Assert.Equal(0, chain.Failovers);
        Assert.Equal(4, chain.KvMoves); // layer by layer: p1 block 0 -> d1, p1 block 1 -> d2, p2 block 2 -> d2, p2 block 3 -> d2
    }

    [Fact]
    public async Task Phase_split_moving_kv_hop_by_hop_gives_the_same_tokens_with_fewer_larger_moves()
    {
        await using var swarm = await TestSwarm.StartAsync();
        await swarm.AddServerAsync("p1", 0, 2, ServerRole.Prefill);
        await swarm.AddServerAsync("p2", 2, 2, ServerRole.Prefill);
        await swarm.AddServerAsync("d1", 0, 1, ServerRole.Decode);
        await swarm.AddServerAsync("d2", 1, 3, ServerRole.Decode);
        var client = TestSwarm.Load(0, 0, head: true);
        using var chain = new CoordinatedBlockChain(swarm.Client, client, new CoordinatedChainOptions { PhaseSplit = true, StreamKvByBlock = false });
        var result = await new TextGenerator(client, chain).GenerateAsync(Prompt, Greedy);
        Assert.Equal(await LocalTokens(Greedy), result.Tokens);
        Assert.Equal(3, chain.KvMoves); // p1 [0, 1) -> d1, p1 [1, 2) -> d2, p2 [2, 4) -> d2
    }

    [Fact]
    public async Task Phase_split_with_the_decode_pool_full_runs_on_the_prefill_pool_with_no_kv_moves_and_the_same_tokens()
    {
        // Heartbeats every 50 ms, so that the decode server's full cache reaches the coordinator at once.
        await using var swarm = await TestSwarm.StartAsync(new CoordinatorOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(50) });
        var client = TestSwarm.Load(0, 0, head: true);
        var hiddenSize = client.Config.HiddenSize;
        long sessionKvBytes; // what one session expecting 64 tokens holds on blocks [0, 4), measured on a probe server
        await using (var probe = await BlockServerHost.StartAsync(TestSwarm.Load(0, 4, head: false)))
        {
            using var probeClient = new BlockServerClient(probe.Address);
            await probeClient.ForwardAsync("filler", 0, 4, 0, new float[hiddenSize], 1, hiddenSize, expectedTokens: 64);
            sessionKvBytes = probe.KvBytes;
        }

        var prefill = await swarm.AddServerAsync("p", 0, 4, ServerRole.Prefill);
        var decode = await swarm.AddServerAsync("d", 0, 4, ServerRole.Decode, new BlockServerLimits { MaxKvBytes = sessionKvBytes });
        using (var decodeClient = new BlockServerClient(decode.Address))
        {
            await decodeClient.ForwardAsync("filler", 0, 4, 0, new float[hiddenSize], 1, hiddenSize, expectedTokens: 64); // d is now 100% full
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((await swarm.Client.ListServersAsync()).Single(s => s.ServerId == "d").FreeKvBytes > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The coordinator never heard from decode server d that its KV cache is full.");
            await Task.Delay(20);
        }

        using var chain = new CoordinatedBlockChain(swarm.Client, client, new CoordinatedChainOptions { PhaseSplit = true });
        var result = await new TextGenerator(client, chain).GenerateAsync(Prompt, Sampled);
        Assert.Equal(await LocalTokens(Sampled), result.Tokens);
        Assert.Equal([prefill.Address.ToString()], result.Route.Select(h => h.Server));
        Assert.Equal(0, chain.KvMoves);
        Assert.Equal(1, chain.PhasePlans(Planning.Live.PhaseDecision.PromptDecodes));
        Assert.Equal(0, chain.PhasePlans(Planning.Live.PhaseDecision.Split));
        Assert.Equal(0, chain.Failovers);
        Assert.Equal(1, decode.SessionCount); // the filler only: the generation never reached the decode pool
    }

    [Fact]
    public async Task Phase_split_around_client_blocks_plans_each_remote_range_and_gives_the_same_tokens()
    {
        await using var swarm = await TestSwarm.StartAsync();
        var p = await swarm.AddServerAsync("p", 0, 4, ServerRole.Prefill);
        var d = await swarm.AddServerAsync("d", 0, 4, ServerRole.Decode);
        var client = TestSwarm.Load(0, 4, head: true);
        using var chain = new CoordinatedBlockChain(swarm.Client, client, new CoordinatedChainOptions { PhaseSplit = true, ClientBlocks = new BlockRange(1, 2), StreamKvByBlock = false });
        var result = await new TextGenerator(client, chain).GenerateAsync(Prompt, Greedy);
        Assert.Equal(await LocalTokens(Greedy), result.Tokens);
        Assert.Equal([new RouteHop(d.Address.ToString(), new BlockRange(0, 1)), new RouteHop("local", new BlockRange(1, 2)), new RouteHop(d.Address.ToString(), new BlockRange(3, 1))], result.Route);
        Assert.Equal(2, chain.PhasePlans(Planning.Live.PhaseDecision.Split)); // one plan per remote range
        Assert.Equal(2, chain.KvMoves);
        Assert.Equal(0, p.SessionCount);
    }

    [Fact]
    public async Task Phase_split_survives_a_decode_server_dying_by_rebuilding_from_the_embeddings()
    {
        await using var swarm = await TestSwarm.StartAsync();
        await swarm.AddServerAsync("p", 0, 4, ServerRole.Prefill);
        await swarm.AddServerAsync("d1", 0, 1, ServerRole.Decode);
        var d2 = await swarm.AddServerAsync("d2", 1, 3, ServerRole.Decode);
        var spare = await swarm.AddServerAsync("d3", 1, 3, ServerRole.Decode); // ties with d2, which wins on its id
        var client = TestSwarm.Load(0, 0, head: true);
        using var chain = new CoordinatedBlockChain(swarm.Client, client, new CoordinatedChainOptions { PhaseSplit = true, MeasureRtts = false });
        var interrupted = new InterruptingChain(chain, 5, () => swarm.KillAsync(d2));
        var result = await new TextGenerator(client, interrupted).GenerateAsync(Prompt, Greedy);
        Assert.Equal(await LocalTokens(Greedy), result.Tokens);
        Assert.True(chain.Failovers >= 1);
        Assert.DoesNotContain(d2.Address.ToString(), chain.Route.Select(h => h.Server));
        Assert.Contains(spare.Address.ToString(), chain.Route.Select(h => h.Server));
    }

    [Fact]
    public async Task Split_path_runs_its_blocks_in_the_client_between_server_hops_with_the_same_tokens()
    {
        await using var swarm = await TestSwarm.StartAsync();
        var server = await swarm.AddServerAsync("s", 0, 4);
        var client = TestSwarm.Load(0, 4, head: true);
        using var chain = new CoordinatedBlockChain(swarm.Client, client, new CoordinatedChainOptions { ClientBlocks = new BlockRange(1, 2) });
        var result = await new TextGenerator(client, chain).GenerateAsync(Prompt, Sampled);
        Assert.Equal(await LocalTokens(Sampled), result.Tokens);
        Assert.Equal([new RouteHop(server.Address.ToString(), new BlockRange(0, 1)), new RouteHop("local", new BlockRange(1, 2)), new RouteHop(server.Address.ToString(), new BlockRange(3, 1))], result.Route);
    }

    [Fact]
    public async Task Split_dp_with_a_two_block_memory_budget_gives_the_client_two_blocks_and_the_same_tokens()
    {
        await using var swarm = await TestSwarm.StartAsync();
        await swarm.AddServerAsync("s", 0, 4);
        var client = TestSwarm.Load(0, 4, head: true);
        var blockBytes = Runtime.Weights.LlamaWeightsLoader.BlockBytes(client.Config);
        var kvBytes = 2.0 * (Prompt.Length + 12) * client.Config.KeyValueDimension * sizeof(float);
        var blocks = await SplitPathPlanner.PlanAsync(client, swarm.Client, Prompt.Length, 12, new SplitPathOptions { ClientMemoryBudgetBytes = 2 * (blockBytes + kvBytes), SlaFactor = 1e6 });
        Assert.Equal(2, blocks.Count);
        using var chain = new CoordinatedBlockChain(swarm.Client, client, new CoordinatedChainOptions { ClientBlocks = blocks });
        var result = await new TextGenerator(client, chain).GenerateAsync(Prompt, Greedy);
        Assert.Equal(await LocalTokens(Greedy), result.Tokens);
        Assert.Contains(result.Route, h => h.Server == "local" && h.Blocks.Count == 2);
    }

    [Fact]
    public async Task A_server_without_room_for_the_announced_tokens_is_routed_around_or_refuses_and_the_client_goes_elsewhere()
    {
        await using var swarm = await TestSwarm.StartAsync();
        // 4 blocks x 2 (keys, values) x 32 floats x 4 bytes = 1 KiB per token: the session announces 9 + 12 tokens
        // (arrays of 22), which do not fit 12 KiB: the coordinator, told the session's size, routes elsewhere (or, on a
        // stale heartbeat, the server refuses the first step and the client goes elsewhere).
        var small = await swarm.AddServerAsync("a-small", 0, 4, limits: new BlockServerLimits { MaxKvBytes = 12 << 10 });
        var big = await swarm.AddServerAsync("b-big", 0, 4);
        var client = TestSwarm.Load(0, 0, head: true);
        using var chain = new CoordinatedBlockChain(swarm.Client, client, new CoordinatedChainOptions { MeasureRtts = false });
        var result = await new TextGenerator(client, chain).GenerateAsync(Prompt, Greedy);
        Assert.Equal(await LocalTokens(Greedy), result.Tokens);
        Assert.Equal(0, chain.Failovers); // a full server is never a failover
        Assert.InRange(chain.BusyRefusals, 0, 1);
        Assert.Equal(big.Address.ToString(), Assert.Single(chain.Route).Server);
        Assert.Equal(0, small.SessionCount);
    }

    [Fact]
    public async Task A_full_only_server_is_retried_after_back_offs_and_the_client_gives_up_at_its_wait_limit_not_its_failover_budget()
    {
        await using var swarm = await TestSwarm.StartAsync();
        var only = await swarm.AddServerAsync("only", 0, 4, limits: new BlockServerLimits { MaxKvBytes = 4 << 10 });
        var client = TestSwarm.Load(0, 0, head: true);
        using var chain = new CoordinatedBlockChain(swarm.Client, client, new CoordinatedChainOptions
        {
            MaxFailovers = 2,
            InitialBackoff = TimeSpan.FromMilliseconds(5),
            MaxBackoff = TimeSpan.FromMilliseconds(40),
            MaxBusyWait = TimeSpan.FromMilliseconds(400),
        });
        var error = await Assert.ThrowsAsync<Core.StrataException>(() => new TextGenerator(client, chain).GenerateAsync(Prompt, Greedy));
        Assert.Contains("stayed full", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, chain.Failovers); // a full server is a reason to wait, never a failover
        Assert.True(chain.BusyRefusals > 2, $"expected more refusals than the failover budget, got {chain.BusyRefusals}");
        Assert.Equal(0, only.SessionCount);
    }

    [Fact]
    public async Task Generations_beyond_a_servers_kv_budget_wait_their_turn_and_all_finish_with_the_local_tokens()
    {
        await using var swarm = await TestSwarm.StartAsync();
        var client = TestSwarm.Load(0, 0, head: true);
        var dimension = client.Config.KeyValueDimension;

        // Each session announces prompt + output tokens (9 + 12 = 21: arrays of 22 tokens, a pool class); the budget holds two and a half.
        var sessionBytes = client.Config.LayerCount * BlockKvCache.BytesFor(22, dimension);
        var limits = new BlockServerLimits { MaxKvBytes = (5 * sessionBytes) / 2 };
        var server = await swarm.AddServerAsync("only", 0, 4, limits: limits);
        using var chain = new CoordinatedBlockChain(swarm.Client, client, new CoordinatedChainOptions { InitialBackoff = TimeSpan.FromMilliseconds(5), MaxBackoff = TimeSpan.FromMilliseconds(50) });
        var peakKvBytes = 0L;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peakKvBytes = Math.Max(peakKvBytes, server.KvBytes);
                await Task.Delay(1);
            }
        });
        var options = Enumerable.Range(0, 8).Select(i => Sampled with { Sampling = Sampled.Sampling with { Seed = (ulong)i } }).ToArray();
        var results = await Task.WhenAll(options.Select(o => Task.Run(() => new TextGenerator(client, chain).GenerateAsync(Prompt, o))));
        await sampling.CancelAsync();
        await sampler;

        for (var i = 0; i < options.Length; i++)
        {
            Assert.Equal(await LocalTokens(options[i]), results[i].Tokens);
        }

        Assert.Equal(0, chain.Failovers);
        Assert.True(chain.BusyRefusals > 0, "eight sessions of which two fit at once should have waited");
        Assert.InRange(peakKvBytes, sessionBytes, limits.MaxKvBytes);
        Assert.Equal((0, 0L), (server.SessionCount, server.KvBytes));
    }

    [Fact]
    public async Task Block_servers_refuse_a_step_past_their_kv_budget_with_resource_exhausted()
    {
        var model = TestSwarm.Load(0, 4, head: false);
        await using var server = await BlockServerHost.StartAsync(model, limits: new BlockServerLimits { MaxKvBytes = 8 << 10 });
        using var client = new BlockServerClient(server.Address);
        var head = TestSwarm.Load(0, 0, head: true);
        await client.ForwardAsync("a", 0, 4, 0, head.Embed([1, 2, 3, 4, 5, 6, 7, 8]), 8, 64, expectedTokens: 8); // exactly 8 KiB
        var full = await Assert.ThrowsAsync<RpcException>(() => client.ForwardAsync("b", 0, 4, 0, head.Embed([1]), 1, 64, expectedTokens: 1));
        Assert.Equal(StatusCode.ResourceExhausted, full.StatusCode);
        await client.ForwardAsync("a", 0, 4, 4, head.Embed([1, 2]), 2, 64); // a replay inside the arrays needs no more
        Assert.True(await client.CloseSessionAsync("a"));
        await client.ForwardAsync("b", 0, 4, 0, head.Embed([1]), 1, 64, expectedTokens: 1);
    }
}
