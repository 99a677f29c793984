using System.Globalization;
using Strata.Core.Placement;
using Strata.Runtime.Engine;
using Strata.Runtime.Observability;
using Strata.Runtime.Sampling;
using Strata.Runtime.Serving;
using Strata.Runtime.Tests.Coordination;

namespace Strata.Runtime.Tests.Serving;

/// <summary>Concurrent sessions' decode calls to one block server run as batched steps and produce the tokens each would alone.</summary>
[Trait("Category", "Integration")]
public sealed class BatchedDecodeServingTests
{
    private const int Sessions = 8;

    private static int[] Prompt(int session) => [.. Enumerable.Range(0, 2 + (3 * session)).Select(i => (session * 37 + i * 11 + 3) % 256)];

    private static GenerationOptions Options(int session) => session % 2 == 0
        ? new GenerationOptions { MaxNewTokens = 12 }
        : new GenerationOptions { MaxNewTokens = 12, Sampling = new SamplingOptions { Temperature = 1.2, TopP = 0.9, Seed = (ulong)session } };

    [Fact]
    public async Task Eight_concurrent_sessions_through_one_batching_block_server_generate_the_tokens_of_running_alone()
    {
        var limits = new BlockServerLimits { MaxDecodeBatch = Sessions, DecodeBatchWait = TimeSpan.FromMilliseconds(200) };
        await using var server = await BlockServerHost.StartAsync(TestSwarm.Load(0, 4, head: false), limits: limits, telemetry: new TelemetryOptions { MetricsPort = 0 });
        var client = TestSwarm.Load(0, 0, head: true);
        var local = TestModels.Tiny();
        var expected = new List<IReadOnlyList<int>>();
        for (var s = 0; s < Sessions; s++)
        {
            expected.Add((await new TextGenerator(local, new LocalBlockChain(local)).GenerateAsync(Prompt(s), Options(s))).Tokens);
        }

        using var chain = new RemoteBlockChain([(server.Address, new BlockRange(0, 4))], client.Config.LayerCount, client.Config.HiddenSize, "batched");
        var generator = new TextGenerator(client, chain);
        var results = await Task.WhenAll(Enumerable.Range(0, Sessions).Select(s => Task.Run(() => generator.GenerateAsync(Prompt(s), Options(s)))));
        for (var s = 0; s < Sessions; s++)
        {
            Assert.Equal(expected[s], results[s].Tokens);
        }

        // Every decode token went through a step the histogram saw, and some step carried several sessions.
        var metrics = await MetricsScrape.GetAsync(server.MetricsAddress!);
        var decodeTokens = MetricsScrape.Required(metrics, "strata_block_tokens_total{kind=\"decode\"}");
        Assert.Equal(results.Sum(r => r.Tokens.Count - 1), decodeTokens);
        Assert.Equal(decodeTokens, MetricsScrape.Required(metrics, "strata_block_decode_batch_size_sum"));
        var steps = MetricsScrape.Required(metrics, "strata_block_decode_batch_size_count");
        var alone = MetricsScrape.Required(metrics, "strata_block_decode_batch_size_bucket{le=\"1\"}");
        Assert.True(alone < steps, string.Create(CultureInfo.InvariantCulture, $"all {steps} decode steps ran one session; expected batching:\n{metrics}"));
        Assert.Equal(steps, MetricsScrape.Required(metrics, "strata_block_decode_batch_size_bucket{le=\"8\"}")); // --max-batch bounds every step
        Assert.Equal(((long)steps, (long)decodeTokens), server.DecodeBatches); // the host's own counts (sim-to-real reads them) agree with the histogram
    }

    [Fact]
    public async Task A_server_with_batching_off_runs_every_decode_step_alone_and_gives_the_same_tokens()
    {
        await using var server = await BlockServerHost.StartAsync(TestSwarm.Load(0, 4, head: false), limits: new BlockServerLimits { MaxDecodeBatch = 1 },
            telemetry: new TelemetryOptions { MetricsPort = 0 });
        var client = TestSwarm.Load(0, 0, head: true);
        var local = TestModels.Tiny();
        using var chain = new RemoteBlockChain([(server.Address, new BlockRange(0, 4))], client.Config.LayerCount, client.Config.HiddenSize, "alone");
        var generator = new TextGenerator(client, chain);
        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(s => Task.Run(() => generator.GenerateAsync(Prompt(s), Options(s)))));
        for (var s = 0; s < 3; s++)
        {
            Assert.Equal((await new TextGenerator(local, new LocalBlockChain(local)).GenerateAsync(Prompt(s), Options(s))).Tokens, results[s].Tokens);
        }

        var metrics = await MetricsScrape.GetAsync(server.MetricsAddress!);
        var steps = MetricsScrape.Required(metrics, "strata_block_decode_batch_size_count");
        Assert.True(steps > 0);
        Assert.Equal(steps, MetricsScrape.Required(metrics, "strata_block_decode_batch_size_bucket{le=\"1\"}"));
        Assert.Equal(((long)steps, (long)steps), server.DecodeBatches); // one session's token per step
    }

    [Fact]
    public void Decode_batch_limits_out_of_range_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlockServerLimits { MaxDecodeBatch = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlockServerLimits { MaxDecodeBatch = 1025 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlockServerLimits { DecodeBatchWait = TimeSpan.FromMilliseconds(-1) }.Validate());
    }
}
