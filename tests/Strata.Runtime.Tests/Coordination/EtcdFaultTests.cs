using System.Diagnostics;
using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Serving;

namespace Strata.Runtime.Tests.Coordination;

/// <summary>Two coordinators over a three-member etcd cluster: generation through the survivors gives exactly the local tokens after each fault.</summary>
[Trait("Category", "Integration")]
public sealed class EtcdFaultTests
{
    private static readonly int[] Prompt = [84, 104, 101, 32, 113, 117, 105, 99, 107];

    private static readonly GenerationOptions Greedy = new() { MaxNewTokens = 8 };

    [EtcdFact]
    public async Task Generation_survives_a_coordinator_stop_an_etcd_member_kill_and_a_server_crash_with_the_local_tokens()
    {
        var model = TestModels.Tiny();
        var local = (await new TextGenerator(model, new LocalBlockChain(model)).GenerateAsync(Prompt, Greedy)).Tokens;
        var layers = model.Config.LayerCount;
        var leaseTtl = TimeSpan.FromSeconds(2);
        var options = new CoordinatorOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(400) };
        var log = new List<string>();
        void Log(string line)
        {
            lock (log)
            {
                log.Add(line);
            }
        }

        await using var etcd = await EtcdCluster.StartAsync(members: 3);
        var a = await CoordinatorHost.StartAsync(await EtcdServerRegistry.StartAsync(etcd.Options(leaseTtl) with { Log = Log }), options: options);
        await using var b = await CoordinatorHost.StartAsync(await EtcdServerRegistry.StartAsync(etcd.Options(leaseTtl) with { Log = Log }), options: options);
        var aStopped = false;
        using var coordinators = new CoordinatorClient([a.Address, b.Address], log: Log);
        var servers = new List<(BlockServerHost Host, BlockServerAgent Agent)>();
        try
        {
            foreach (var id in new[] { "s1", "s2" })
            {
                var host = await BlockServerHost.StartAsync(TestSwarm.Load(0, layers, head: false));
                servers.Add((host, await BlockServerAgent.StartAsync(host, coordinators, model.Config.Architecture.Name, layers, new BlockServerAgentOptions { ServerId = id })));
            }

            var client = TestSwarm.Load(0, 0, head: true);
            async Task<IReadOnlyList<int>> GenerateAsync()
            {
                using var chain = new CoordinatedBlockChain(coordinators, client);
                return (await new TextGenerator(client, chain).GenerateAsync(Prompt, Greedy)).Tokens;
            }

            Assert.Equal(local, await GenerateAsync());

            // 1. One coordinator goes away: calls fail over to the other, which shares the registry.
            await a.DisposeAsync();
            aStopped = true;
            Assert.Equal(local, await GenerateAsync());
            Assert.True(coordinators.Failovers >= 1);
            Assert.Equal(b.Address, coordinators.Address);
            lock (log)
            {
                Assert.Contains(log, l => l.StartsWith("FAILOVER: the coordinator at " + a.Address, StringComparison.Ordinal));
            }

            // 2. One etcd member of three is killed (SIGKILL): the other two keep a quorum.
            etcd.Kill(0);
            Assert.Equal(local, await GenerateAsync());
            await Task.Delay(options.HeartbeatInterval * 2); // heartbeats keep renewing through the survivors
            Assert.Equal(2, b.Registry.Live().Count);

            // 3. A block server crashes (no deregistration): its entry is gone within its lease, and routes avoid it.
            await servers[0].Agent.AbandonAsync();
            await servers[0].Host.DisposeAsync();
            var clock = Stopwatch.StartNew();
            while (b.Registry.Live().Any(s => s.ServerId == "s1"))
            {
                Assert.True(clock.Elapsed < leaseTtl + options.HeartbeatInterval + TimeSpan.FromSeconds(1.5), $"s1 still listed after {clock.Elapsed.TotalSeconds:0.00} s");
                await Task.Delay(20);
            }

            Assert.Equal("s2", Assert.Single(b.Registry.Live()).ServerId);
            using (var chain = new CoordinatedBlockChain(coordinators, client))
            {
                var result = await new TextGenerator(client, chain).GenerateAsync(Prompt, Greedy);
                Assert.Equal(local, result.Tokens);
                Assert.All(result.Route, hop => Assert.Equal(servers[1].Host.Address.ToString(), hop.Server));
                Assert.Equal(0, chain.Failovers);
            }
        }
        finally
        {
            foreach (var (host, agent) in servers)
            {
                await agent.DisposeAsync();
                await host.DisposeAsync();
            }

            if (!aStopped)
            {
                await a.DisposeAsync();
            }
        }
    }
}
