using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Protocol;
using Strata.Runtime.Serving;
using Strata.Runtime.Weights;

namespace Strata.Cli.Tests.Serve;

public sealed class ServeCommandTests : IDisposable
{
    private readonly List<string> _directories = [];

    public void Dispose()
    {
        foreach (var directory in _directories.Where(Directory.Exists))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private string TinyModel()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"strata-cli-serve-test-{Guid.NewGuid():N}");
        _directories.Add(directory);
        CliRun.Of("model", "init", "--preset", "tiny", "--seed", "3", "--out", directory).ShouldSucceed();
        return directory;
    }

    [Fact]
    public void Serve_block_refuses_out_of_range_limits_in_one_sentence()
    {
        var model = TinyModel();
        string[] Block(params string[] extra) => ["serve", "block", "--coordinator", "http://127.0.0.1:9", "--model", model, "--blocks", "0:4", "--port", "0", .. extra];
        CliRun.Of(Block("--session-idle-timeout-seconds", "0")).ShouldFailCleanly("--session-idle-timeout-seconds");
        CliRun.Of(Block("--max-sessions-per-client", "0")).ShouldFailCleanly("--max-sessions-per-client");
        CliRun.Of(Block("--max-batch", "0")).ShouldFailCleanly("--max-batch");
        CliRun.Of(Block("--batch-wait-ms", "-1")).ShouldFailCleanly("--batch-wait-ms");
    }

    private static int[] Tokens(CliRun run) => [.. run.ShouldSucceed().Json().GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32())];

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Generation_through_real_serve_processes_survives_killing_one_of_them_and_equals_local()
    {
        var model = TinyModel();
        using var coordinator = ServeProcess.Start("serve", "coordinator", "--port", "0", "--join-token", "t0k", "--heartbeat-ms", "300");
        var url = coordinator.Address.ToString();
        string[] Block(string blocks) => ["serve", "block", "--coordinator", url, "--model", model, "--blocks", blocks, "--port", "0", "--join-token", "t0k"];
        using var whole = ServeProcess.Start(Block("0:4"));
        using var front = ServeProcess.Start(Block("0:2"));
        using var back = ServeProcess.Start(Block("2:2"));

        var reference = ModelFolder.LoadModel(model);
        var config = reference.Config;
        int[] prompt = [72, 101, 108, 108, 111];
        var options = new GenerationOptions { MaxNewTokens = 16 };
        var local = (await new TextGenerator(reference, new LocalBlockChain(reference)).GenerateAsync(prompt, options)).Tokens;

        using var client = new CoordinatorClient(coordinator.Address);
        var head = new LlamaModel(config, LlamaWeightsLoader.Load(model, config, 0, 0));
        // The one-hop route is the cheaper one only while loopback's round-trip noise stays out of the prices.
        using var chain = new CoordinatedBlockChain(client, head, new CoordinatedChainOptions { MeasureRtts = false });
        var interrupted = new InterruptingChain(chain, 5, whole.Kill);
        var routed = await new TextGenerator(head, interrupted).GenerateAsync(prompt, options);
        Assert.True(whole.HasExited);
        Assert.Equal(local, routed.Tokens);
        Assert.True(chain.Failovers >= 1, $"expected a failover; logs:\n{whole.Log}");
        Assert.Equal([front.Address.ToString(), back.Address.ToString()], chain.Route.Select(h => h.Server));

        // The CLI through the same swarm: the coordinator may still list the dead server, the client routes around it.
        var json = CliRun.Of("generate", "--coordinator", url, "--model", model, "--prompt", "Hello", "--max-tokens", "16", "--json").ShouldSucceed().Json();
        Assert.Equal(Tokens(CliRun.Of("generate", "--local", "--model", model, "--prompt", "Hello", "--max-tokens", "16", "--json")),
            json.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
        Assert.DoesNotContain(whole.Address.ToString(), json.GetProperty("route").EnumerateArray().Select(h => h.GetProperty("server").GetString()));

        // SIGTERM: the server deregisters at once and exits 0 (the coordinator does not wait for missed heartbeats).
        Assert.Contains((await client.ListServersAsync()).Select(s => s.Url), u => u == front.Address.ToString());
        Assert.Equal(0, front.Terminate());
        Assert.DoesNotContain((await client.ListServersAsync()).Select(s => s.Url), u => u == front.Address.ToString());

        // The coordinator's log: every join, the SIGTERM'd server leaving, and the SIGKILL'd one leaving once its heartbeats timed out.
        Assert.Contains($"info CoordinatorHost: server {back.Address.Authority} joined at {back.Address}", coordinator.Log, StringComparison.Ordinal);
        Assert.True(await coordinator.WaitForAsync($"info CoordinatorHost: server {front.Address.Authority} left (deregistered)", TimeSpan.FromSeconds(10)) is not null, coordinator.Log);
        Assert.True(await coordinator.WaitForAsync($"warn CoordinatorHost: server {whole.Address.Authority} left without deregistering here", TimeSpan.FromSeconds(10)) is not null, coordinator.Log);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Generate_with_a_coordinator_equals_local_on_the_swarm_split_and_phase_split_paths()
    {
        var model = TinyModel();
        var config = ModelFolder.LoadConfig(model);
        await using var coordinator = await CoordinatorHost.StartAsync();
        using var client = new CoordinatorClient(coordinator.Address);
        var hosts = new List<BlockServerHost>();
        var agents = new List<BlockServerAgent>();
        try
        {
            // Both-role servers may serve either phase; their 15 ms round trips make the phase pools' one-hop chains the
            // clear choice for a phase split, whatever the noise of round trips measured on a loaded machine.
            foreach (var (first, count, role) in new[] { (0, 2, ServerRole.Both), (2, 2, ServerRole.Both), (0, 4, ServerRole.Prefill), (0, 4, ServerRole.Decode) })
            {
                var limits = new BlockServerLimits { EmulatedRtt = TimeSpan.FromMilliseconds(role == ServerRole.Both ? 15 : 0) };
                var host = await BlockServerHost.StartAsync(new LlamaModel(config, LlamaWeightsLoader.Load(model, config, first, count, includeEmbeddingAndHead: false)), limits: limits);
                hosts.Add(host);
                agents.Add(await BlockServerAgent.StartAsync(host, client, config.Architecture.Name, config.LayerCount, new BlockServerAgentOptions { Role = role }));
            }

            string[] common = ["--model", model, "--prompt", "The quick brown fox", "--max-tokens", "10", "--temperature", "0.9", "--seed", "4", "--json"];
            var local = Tokens(CliRun.Of(["generate", "--local", .. common]));
            var url = coordinator.Address.ToString();
            var swarm = CliRun.Of(["generate", "--coordinator", url, .. common]).ShouldSucceed().Json();
            Assert.Equal(local, swarm.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
            Assert.Equal(0, swarm.GetProperty("failovers").GetInt32());
            Assert.True(swarm.GetProperty("ttftSeconds").GetDouble() > 0);
            Assert.True(swarm.GetProperty("tpotSeconds").GetDouble() > 0);

            // Routes price load (open and pending sessions, until the servers' next heartbeats): start each run on an idle swarm.
            await IdleAsync(client);
            var phase = CliRun.Of(["generate", "--coordinator", url, "--phase-split", .. common]).ShouldSucceed().Json();
            Assert.Equal(local, phase.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
            Assert.Equal(hosts[3].Address.ToString(), Assert.Single(phase.GetProperty("route").EnumerateArray()).GetProperty("server").GetString());
            Assert.Equal("block", phase.GetProperty("kvStreaming").GetString());
            Assert.Equal(config.LayerCount, phase.GetProperty("kvMoves").GetInt32()); // one move per block, streamed as each block is prefilled
            Assert.Equal(1, Assert.Single(phase.GetProperty("phasePlans").EnumerateObject(), p => p.Name == "split").Value.GetInt32()); // the pools' one range

            await IdleAsync(client);
            var byHop = CliRun.Of(["generate", "--coordinator", url, "--phase-split", "--kv-streaming", "hop", .. common]).ShouldSucceed().Json();
            Assert.Equal(local, byHop.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
            Assert.Equal(1, byHop.GetProperty("kvMoves").GetInt32()); // the whole prefill hop at once
            CliRun.Of(["generate", "--coordinator", url, "--phase-split", "--kv-streaming", "layer", .. common]).ShouldFailCleanly("--kv-streaming", "layer");

            var split = CliRun.Of(["generate", "--coordinator", url, "--split", "dp", .. common]).ShouldSucceed().Json();
            Assert.Equal(local, split.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
            Assert.Contains(split.GetProperty("route").EnumerateArray(), h => h.GetProperty("server").GetString() == "local");
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }

            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
        }
    }

    private static async Task IdleAsync(CoordinatorClient client)
    {
        for (var wait = 0; wait < 200 && (await client.ListServersAsync()).Any(s => s.Sessions > 0 || s.PendingSessions > 0); wait++)
        {
            await Task.Delay(50);
        }
    }

    [Fact]
    public void Bad_serve_and_generate_arguments_fail_with_one_sentence()
    {
        var model = TinyModel();
        CliRun.Of("generate", "--model", model, "--prompt", "x").ShouldFailCleanly("--local", "--coordinator");
        CliRun.Of("generate", "--local", "--coordinator", "http://127.0.0.1:1", "--model", model, "--prompt", "x").ShouldFailCleanly("exactly one");
        CliRun.Of("generate", "--coordinator", "not-a-url", "--model", model, "--prompt", "x").ShouldFailCleanly("--coordinator");
        CliRun.Of("serve", "block", "--coordinator", "http://127.0.0.1:1", "--model", model).ShouldFailCleanly("--blocks", "--auto");
        CliRun.Of("serve", "block", "--coordinator", "http://127.0.0.1:1", "--model", model, "--blocks", "3:2").ShouldFailCleanly("--blocks");
        CliRun.Of("serve", "block", "--coordinator", "http://127.0.0.1:1", "--model", model, "--blocks", "0:2", "--role", "judge").ShouldFailCleanly("judge", "prefill");
        CliRun.Of("serve", "coordinator", "--port", "70000").ShouldFailCleanly("--port");
        CliRun.Of("serve", "coordinator", "--metrics-port", "70000").ShouldFailCleanly("--metrics-port");
        CliRun.Of("serve", "coordinator", "--log-level", "loud").ShouldFailCleanly("loud", "--log-level");
        CliRun.Of("serve", "coordinator", "--prompt-queue-tokens", "-1").ShouldFailCleanly("--prompt-queue-tokens", "-1");
        CliRun.Of("serve", "coordinator", "--decode-kv-threshold", "1.5").ShouldFailCleanly("--decode-kv-threshold", "1.5");
        CliRun.Of("serve", "coordinator", "--decode-kv-threshold", "NaN").ShouldFailCleanly("--decode-kv-threshold");
        CliRun.Of("serve", "block", "--coordinator", "http://127.0.0.1:1", "--model", model, "--blocks", "0:2", "--metrics-port", "-1").ShouldFailCleanly("--metrics-port");
        CliRun.Of("serve", "block", "--coordinator", "http://127.0.0.1:1", "--model", model, "--blocks", "0:2").ShouldFailCleanly("coordinator", "refused");
        CliRun.Of("generate", "--coordinator", "http://127.0.0.1:1", "--model", model, "--prompt", "x").ShouldFailCleanly("coordinator");
    }
}
