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
        using var second = ServeProcess.Start(Coordinator());
        var both = $"{first.Address},{second.Address}";
        using var server = ServeProcess.Start("serve", "block", "--coordinator", both, "--model", _model, "--blocks", "0:4", "--port", "0", "--join-token", "t0k");
        using var gateway = ServeProcess.Start("serve", "gateway", "--coordinator", both, "--model", _model, "--port", "0");
        using var http = new HttpClient { BaseAddress = gateway.Address, Timeout = TimeSpan.FromSeconds(60) };

        string[] common = ["--model", _model, "--prompt", "Hello", "--max-tokens", "8", "--temperature", "0", "--json"];
        var local = CliRun.Of(["generate", "--local", .. common]).ShouldSucceed().Json();
        var localTokens = local.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        var localText = local.GetProperty("text").GetString();

        async Task CheckAsync(string when)
        {
            var run = CliRun.Of(["generate", "--coordinator", both, .. common]);
            Assert.True(run.ExitCode == 0 && run.ErrorLines.All(l => l.StartsWith("FAILOVER: ", StringComparison.Ordinal)), $"{when}: {run.Describe()}"); // fail-overs are logged
            var swarm = run.Json();
            Assert.Equal(localTokens, swarm.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
            using var body = new StringContent("""{"prompt": "Hello", "max_tokens": 8, "temperature": 0}""", Encoding.UTF8, "application/json");
            using var reply = await http.PostAsync(new Uri("/v1/completions", UriKind.Relative), body);
            var text = await reply.Content.ReadAsStringAsync();
            Assert.True(reply.StatusCode == HttpStatusCode.OK, $"{when}: HTTP {(int)reply.StatusCode}: {text}\ngateway log:\n{gateway.Log}");
            Assert.Equal(localText, JsonDocument.Parse(text).RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        }

        await CheckAsync("both coordinators up");

        first.Kill(); // SIGKILL
        var clock = Stopwatch.StartNew();
        await CheckAsync("after the first coordinator's SIGKILL");
        var failoverSeconds = clock.Elapsed.TotalSeconds;
        Assert.Contains("FAILOVER", gateway.Log, StringComparison.Ordinal);

        etcd.Kill(0);
        await CheckAsync("after an etcd member's SIGKILL");
        await Task.Delay(1500); // three heartbeat intervals: the server's lease is renewed through the survivors
        await CheckAsync("three heartbeats after the etcd member's SIGKILL");
        Assert.False(server.HasExited);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"generate + gateway request after coordinator SIGKILL: {failoverSeconds:0.000} s"));
    }
}
