using System.Diagnostics;
using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Serving;

namespace Strata.Runtime.Tests.Coordination;

[Trait("Category", "Integration")]
public sealed class EmulatedLinkTests
{
    private static readonly int[] Prompt = [84, 104, 101, 32, 113, 117, 105, 99, 107];

    [Fact]
    public async Task An_emulated_round_trip_delays_every_reply_is_announced_measured_and_steers_routes_to_the_near_replica()
    {
        await using var swarm = await TestSwarm.StartAsync();
        var far = await swarm.AddServerAsync("far", 0, 4, limits: new BlockServerLimits { EmulatedRtt = TimeSpan.FromMilliseconds(60) });
        var near = await swarm.AddServerAsync("near", 0, 4, limits: new BlockServerLimits { EmulatedRtt = TimeSpan.FromMilliseconds(15) });
        var entries = await swarm.Client.ListServersAsync();
        Assert.Equal(0.06, entries.Single(e => e.ServerId == "far").EmulatedRttSeconds, 9);
        Assert.Equal(0.015, entries.Single(e => e.ServerId == "near").EmulatedRttSeconds, 9);

        using (var direct = new BlockServerClient(far.Address))
        {
            await direct.InfoAsync();
            var watch = Stopwatch.StartNew();
            await direct.InfoAsync();
            Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(60), $"an Info call to the far server took {watch.Elapsed.TotalMilliseconds} ms");
        }

        var client = TestSwarm.Load(0, 0, head: true);
        using var chain = new CoordinatedBlockChain(swarm.Client, client);
        var local = await new TextGenerator(TestModels.Tiny(), new LocalBlockChain(TestModels.Tiny())).GenerateAsync(Prompt, new GenerationOptions { MaxNewTokens = 4 });
        var result = await new TextGenerator(client, chain).GenerateAsync(Prompt, new GenerationOptions { MaxNewTokens = 4 });
        Assert.Equal(local.Tokens, result.Tokens);
        Assert.Equal(near.Address.ToString(), Assert.Single(result.Route).Server);
        Assert.InRange(chain.RttSeconds["far"], 0.06, 1);
        Assert.InRange(chain.RttSeconds["near"], 0.015, 1);
    }
}
