using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Strata.Runtime.Tests.Coordination;

namespace Strata.Cli.Tests.Serve;

/// <summary>The deployment of docs/runtime.md with real processes: three etcd members, two coordinators, a block server, a gateway.</summary>
public sealed class EtcdServeTests : IDisposable
{
    private readonly string _model = Path.Combine(Path.GetTempPath(), $"strata-cli-etcd-test-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_model))
        {
            Directory.Delete(_model, recursive: true);
        }
    }

    [EtcdFact]
    [Trait("Category", "Integration")]
    public async Task Gateway_and_generate_given_both_coordinators_keep_serving_the_local_tokens_after_a_coordinator_sigkill_and_an_etcd_member_kill()
    {
        CliRun.Of("model", "init", "--preset", "tiny", "--seed", "3", "--out", _model).ShouldSucceed();
        await using var etcd = await EtcdCluster.StartAsync(members: 3);
        string[] Coordinator() => ["serve", "coordinator", "--port", "0", "--join-token", "t0k", "--heartbeat-ms", "500", "--registry", etcd.RegistryText];
        using var first = ServeProcess.Start(Coordinator());
        using var second = ServeProcess.Start([.. Coordinator(), "--metrics-port", "0"]);
        var both = $"{first.Address},{second.Address}";
        using var server = ServeProcess.Start("serve", "block", "--coordinator", both, "--model", _model, "--blocks", "0:4", "--port", "0", "--join-token", "t0k", "--metrics-port", "0");
        var serverMetrics = await server.MetricsAddressAsync();
        var secondMetrics = await second.MetricsAddressAsync();
        using var gateway = ServeProcess.Start("serve", "gateway", "--coordinator", both, "--model", _model, "--port", "0");
        using var http = new HttpClient { BaseAddress = gateway.Address, Timeout = TimeSpan.FromSeconds(60) };

        string[] common = ["--model", _model, "--prompt", "Hello", "--max-tokens", "8", "--temperature", "0", "--json"];
        var local = CliRun.Of(["generate", "--local", .. common]).ShouldSucceed().Json();
        var localTokens = local.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        var localText = local.GetProperty("text").GetString();

        async Task CheckAsync(string when)
        {
            var run = CliRun.Of(["generate", "--coordinator", both, .. common]);
            Assert.True(run.ExitCode == 0 && run.ErrorLines.All(l => l.Contains(" warn CoordinatorClient: coordinator fail-over from ", StringComparison.Ordinal)), $"{when}: {run.Describe()}"); // only fail-overs are logged
            var swarm = run.Json();
            Assert.Equal(localTokens, swarm.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
            using var body = new StringContent("""{"prompt": "Hello", "max_tokens": 8, "temperature": 0}""", Encoding.UTF8, "application/json");
            using var reply = await http.PostAsync(new Uri("/v1/completions", UriKind.Relative), body);
            var text = await reply.Content.ReadAsStringAsync();
            Assert.True(reply.StatusCode == HttpStatusCode.OK, $"{when}: HTTP {(int)reply.StatusCode}: {text}\ngateway log:\n{gateway.Log}");
            Assert.Equal(localText, JsonDocument.Parse(text).RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        }

        var decodeSteps = await ScrapeAsync(serverMetrics, "strata_block_steps_total{kind=\"decode\"}");
        await CheckAsync("both coordinators up");
        // The counters move: the block server ran the decode steps of both generations (generate and the gateway's), 7 each after the prefill.
        Assert.True(await ScrapeAsync(serverMetrics, "strata_block_steps_total{kind=\"decode\"}") >= decodeSteps + 14);
        Assert.Equal(1, await ScrapeAsync(secondMetrics, "strata_coordinator_registry_servers"));

        first.Kill(); // SIGKILL
        var clock = Stopwatch.StartNew();
        await CheckAsync("after the first coordinator's SIGKILL");
        var failoverSeconds = clock.Elapsed.TotalSeconds;
        var routes = await ScrapeAsync(secondMetrics, "strata_coordinator_routes_total{outcome=\"ok\"}");
        Assert.True(routes >= 2, $"routes through the survivor: {routes}"); // the gateway's and generate's, after the fail-over

        // The kill shows in the logs of everything that used the dead coordinator, naming it and the one taking over.
        var failover = $"warn CoordinatorClient: coordinator fail-over from {first.Address} to {second.Address}";
        Assert.Contains(failover, gateway.Log, StringComparison.Ordinal);
        Assert.True(await server.WaitForAsync(failover, TimeSpan.FromSeconds(10)) is not null, $"block server log:\n{server.Log}"); // its next heartbeat

        etcd.Kill(0);
        await CheckAsync("after an etcd member's SIGKILL");
        await Task.Delay(1500); // three heartbeat intervals: the server's lease is renewed through the survivors
        await CheckAsync("three heartbeats after the etcd member's SIGKILL");
        Assert.False(server.HasExited);
        // Both coordinators watch through the first member: the survivor's log names the killed member its watch moved off.
        Assert.True(await second.WaitForAsync($"warn EtcdServerRegistry: etcd fail-over: the registry watch on member 127.0.0.1:{etcd.ClientPorts[0]} broke", TimeSpan.FromSeconds(10)) is not null,
            $"coordinator log:\n{second.Log}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"generate + gateway request after coordinator SIGKILL: {failoverSeconds:0.000} s"));
    }

    private static async Task<double> ScrapeAsync(Uri metrics, string series)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync(metrics);
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"no sample {series} at {metrics}:\n{text}");
        return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }
}
