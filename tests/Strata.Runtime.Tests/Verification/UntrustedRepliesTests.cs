using System.Net;
using Strata.Core;
using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Gateway;
using Strata.Runtime.Sampling;
using Strata.Runtime.Serving;
using Strata.Runtime.Tests.Coordination;
using Strata.Runtime.Tests.Gateway;
using Strata.Runtime.Tokenization;
using Strata.Runtime.Verification;

namespace Strata.Runtime.Tests.Verification;

/// <summary>A lying block server against every check of the client: envelope, spot checks, quarantine, gateway errors.</summary>
[Trait("Category", "Integration")]
public sealed class UntrustedRepliesTests
{
    private static readonly int[] Prompt = [84, 104, 101, 32, 113, 117, 105, 99, 107];

    private static readonly GenerationOptions Greedy = new() { MaxNewTokens = 8 };

    private static readonly GenerationOptions Sampled = new() { MaxNewTokens = 8, Sampling = new SamplingOptions { Temperature = 1.3, TopP = 0.9, Seed = 5 } };

    // Heartbeats every 30 s: the lying server registers once and must stay listed for the whole test.
    private static readonly CoordinatorOptions SlowHeartbeats = new() { HeartbeatInterval = TimeSpan.FromSeconds(30) };

    private static async Task<IReadOnlyList<int>> LocalTokens(GenerationOptions options)
    {
        var model = TestModels.Tiny();
        return (await new TextGenerator(model, new LocalBlockChain(model)).GenerateAsync(Prompt, options)).Tokens;
    }

    private static ActivationEnvelope ProfiledEnvelope() => ActivationEnvelope.ProfileFolder(TestModels.TinyDirectory(), TestSwarm.Load(0, 0, head: true));

    [Theory]
    [InlineData(Lie.NaN)]
    [InlineData(Lie.Infinity)]
    [InlineData(Lie.Huge)]
    [InlineData(Lie.Zeros)]
    [InlineData(Lie.Random)]
    public async Task A_liar_alone_on_its_range_fails_the_generation_with_an_error_naming_it_and_is_quarantined(Lie lie)
    {
        await using var swarm = await TestSwarm.StartAsync(SlowHeartbeats);
        await swarm.AddServerAsync("honest", 0, 2);
        await using var liar = await LyingBlockServer.Host.StartAsync(TestSwarm.Load(2, 2, head: false), lie);
        await liar.RegisterAsync(swarm.Client, "liar");
        var client = TestSwarm.Load(0, 0, head: true);
        using var chain = new CoordinatedBlockChain(swarm.Client, client, new CoordinatedChainOptions { Envelope = ProfiledEnvelope(), VerifyFraction = 0 });

        var error = await Assert.ThrowsAsync<StrataException>(() => new TextGenerator(client, chain).GenerateAsync(Prompt, Greedy));

        Assert.Contains("liar", error.Message, StringComparison.Ordinal);
        Assert.Contains(liar.Address.ToString(), error.Message, StringComparison.Ordinal);
        Assert.True(liar.Server.Steps >= 1);
        Assert.Equal(1, chain.RejectedReplies);
        var servers = await swarm.Client.ListAllAsync();
        Assert.DoesNotContain(servers.Servers, s => s.ServerId == "liar");
        Assert.Equal("liar", Assert.Single(servers.Quarantined).ServerId);
    }

    [Fact]
    public async Task The_generate_path_fails_naming_a_liar_that_answers_nan()
    {
        await using var swarm = await TestSwarm.StartAsync(SlowHeartbeats);
        await swarm.AddServerAsync("honest", 0, 2);
        await using var liar = await LyingBlockServer.Host.StartAsync(TestSwarm.Load(2, 2, head: false), Lie.NaN);
        await liar.RegisterAsync(swarm.Client, "liar");

        var error = await Assert.ThrowsAsync<StrataException>(() => CoordinatedGeneration.RunAsync(
            swarm.Coordinator.Address, TestModels.TinyDirectory(), "The quick", Greedy, new CoordinatedChainOptions { VerifyFraction = 0 }));

        Assert.Contains("liar", error.Message, StringComparison.Ordinal);
        Assert.Contains("non-finite", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Lie.NaN)]
    [InlineData(Lie.Zeros)]
    public async Task The_gateway_answers_503_with_an_error_object_not_200_when_the_only_server_of_a_range_lies(Lie lie)
    {
        await using var swarm = await TestSwarm.StartAsync(SlowHeartbeats);
        await swarm.AddServerAsync("honest", 0, 2);
        await using var liar = await LyingBlockServer.Host.StartAsync(TestSwarm.Load(2, 2, head: false), lie);
        await liar.RegisterAsync(swarm.Client, "liar");
        var head = TestSwarm.Load(0, 0, head: true);
        var options = new CoordinatedChainOptions { Envelope = ProfiledEnvelope(), VerifyFraction = 0 };
        var tokenizer = TokenizerLoader.Load(TestModels.TinyDirectory(), head.Config);
        var backend = new ChainCompletionBackend(head, tokenizer, () => new CoordinatedBlockChain(swarm.Client, head, options), "tiny");
        await using var gateway = await GatewayHost.StartAsync([backend]);
        using var http = GatewayHttp.Client(gateway.Address);

        var (status, body) = await GatewayHttp.PostAsync(http, "/v1/completions", """{"prompt": "The quick", "max_tokens": 8, "temperature": 0}""");

        // The liar is rejected and nothing else covers its blocks: the swarm cannot serve, which is 503 (retry later), not 500.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        GatewayHttp.AssertError(body, null, "swarm_unavailable", "server_error");
        Assert.Contains("liar", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Lie.Echo)]
    [InlineData(Lie.Random)]
    [InlineData(Lie.Perturb)]
    public async Task Spot_checks_catch_a_fastest_liar_beside_two_honest_replicas_and_the_tokens_are_exactly_local(Lie lie)
    {
        await using var swarm = await TestSwarm.StartAsync(SlowHeartbeats);
        await swarm.AddServerAsync("honest-1", 0, 4);
        await swarm.AddServerAsync("honest-2", 0, 4);
        await using var liar = await LyingBlockServer.Host.StartAsync(TestSwarm.Load(0, 4, head: false), lie);
        await liar.RegisterAsync(swarm.Client, "liar");
        var client = TestSwarm.Load(0, 0, head: true);
        var options = new CoordinatedChainOptions { VerifyFraction = 1, VerifySeed = 1 }; // generic envelope: only the spot check can tell

        using (var chain = new CoordinatedBlockChain(swarm.Client, client, options))
        {
            Assert.Equal(await LocalTokens(Greedy), (await new TextGenerator(client, chain).GenerateAsync(Prompt, Greedy)).Tokens);
            Assert.Equal(1, chain.LiarsCaught);
            Assert.True(liar.Server.Steps >= 1, "the liar, advertised fastest, was routed to first");
        }

        var servers = await swarm.Client.ListAllAsync();
        Assert.Equal("liar", Assert.Single(servers.Quarantined).ServerId);
        Assert.DoesNotContain(servers.Servers, s => s.ServerId == "liar");

        // Every later generation, on a new chain, routes around it and gives the local tokens.
        var steps = liar.Server.Steps;
        foreach (var generation in new[] { Greedy, Sampled })
        {
            using var chain = new CoordinatedBlockChain(swarm.Client, client, options);
            Assert.Equal(await LocalTokens(generation), (await new TextGenerator(client, chain).GenerateAsync(Prompt, generation)).Tokens);
            Assert.Equal(0, chain.LiarsCaught);
        }

        Assert.Equal(steps, liar.Server.Steps);
    }

    [Fact]
    public async Task A_lying_verifier_is_caught_by_the_third_replica_and_the_honest_primary_kept()
    {
        await using var swarm = await TestSwarm.StartAsync(SlowHeartbeats);
        await AddHonestAsync(swarm, "fast-honest", 1e-6);
        await AddHonestAsync(swarm, "slow-honest", 1e-2);
        await using var liar = await LyingBlockServer.Host.StartAsync(TestSwarm.Load(0, 4, head: false), Lie.Echo);
        await liar.RegisterAsync(swarm.Client, "liar", 1e-4); // second fastest: the verifier of the fast honest server
        var client = TestSwarm.Load(0, 0, head: true);
        using var chain = new CoordinatedBlockChain(swarm.Client, client, new CoordinatedChainOptions { VerifyFraction = 1, VerifySeed = 3 });

        var result = await new TextGenerator(client, chain).GenerateAsync(Prompt, Greedy);

        Assert.Equal(await LocalTokens(Greedy), result.Tokens);
        Assert.Equal(1, chain.LiarsCaught);
        Assert.Equal(0, chain.Failovers); // the primary was right all along
        Assert.Equal("liar", Assert.Single((await swarm.Client.ListAllAsync()).Quarantined).ServerId);
    }

    [Fact]
    public async Task With_one_honest_replica_the_clients_own_weights_decide()
    {
        await using var swarm = await TestSwarm.StartAsync(SlowHeartbeats);
        await swarm.AddServerAsync("honest", 0, 4);
        await using var liar = await LyingBlockServer.Host.StartAsync(TestSwarm.Load(0, 4, head: false), Lie.Perturb);
        await liar.RegisterAsync(swarm.Client, "liar");
        var client = TestModels.Tiny(); // holds every block
        using var chain = new CoordinatedBlockChain(swarm.Client, client, new CoordinatedChainOptions { VerifyFraction = 1, VerifySeed = 1 });

        Assert.Equal(await LocalTokens(Sampled), (await new TextGenerator(client, chain).GenerateAsync(Prompt, Sampled)).Tokens);
        Assert.Equal(1, chain.LiarsCaught);
    }

    [Fact]
    public async Task Two_replicas_that_disagree_with_nothing_to_decide_fail_the_generation_naming_both()
    {
        await using var swarm = await TestSwarm.StartAsync(SlowHeartbeats);
        await swarm.AddServerAsync("honest", 0, 4);
        await using var liar = await LyingBlockServer.Host.StartAsync(TestSwarm.Load(0, 4, head: false), Lie.Echo);
        await liar.RegisterAsync(swarm.Client, "liar");
        var client = TestSwarm.Load(0, 0, head: true);
        using var chain = new CoordinatedBlockChain(swarm.Client, client, new CoordinatedChainOptions { VerifyFraction = 1, VerifySeed = 1 });

        var error = await Assert.ThrowsAsync<StrataException>(() => new TextGenerator(client, chain).GenerateAsync(Prompt, Greedy));

        Assert.Contains("disagree", error.Message, StringComparison.Ordinal);
        Assert.Empty((await swarm.Client.ListAllAsync()).Quarantined); // nobody was proven to lie
    }

    [Fact]
    public async Task Without_a_liar_spot_checks_agree_bit_for_bit_and_change_nothing()
    {
        await using var swarm = await TestSwarm.StartAsync(SlowHeartbeats);
        await swarm.AddServerAsync("a", 0, 2);
        await swarm.AddServerAsync("b", 2, 2);
        await swarm.AddServerAsync("c", 0, 4);
        var client = TestSwarm.Load(0, 0, head: true);
        using var chain = new CoordinatedBlockChain(swarm.Client, client, new CoordinatedChainOptions { VerifyFraction = 1, VerifySeed = 1, VerifyTolerance = 0 });

        Assert.Equal(await LocalTokens(Sampled), (await new TextGenerator(client, chain).GenerateAsync(Prompt, Sampled)).Tokens);
        Assert.True(chain.SpotChecks >= Sampled.MaxNewTokens, $"{chain.SpotChecks} spot checks");
        Assert.Equal(0, chain.LiarsCaught);
        Assert.Equal(0, chain.Failovers);
    }

    private static async Task AddHonestAsync(TestSwarm swarm, string id, double decodeSecondsPerBlock)
    {
        var model = TestSwarm.Load(0, 4, head: false);
        var host = await BlockServerHost.StartAsync(model);
        swarm.Track(host, await BlockServerAgent.StartAsync(host, swarm.Client, model.Config.Architecture.Name, model.Config.LayerCount,
            new BlockServerAgentOptions { ServerId = id, DecodeSecondsPerBlock = decodeSecondsPerBlock }));
    }
}
