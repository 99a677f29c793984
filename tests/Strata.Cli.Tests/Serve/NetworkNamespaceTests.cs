using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Strata.Cli.Tests.Serve;

/// <summary>A fact that needs root and iproute2 (network namespaces, veth, tc): skipped, saying why, elsewhere.</summary>
public sealed class NetnsFactAttribute : FactAttribute
{
    /// <summary>Skips the fact when namespaces cannot be made here.</summary>
    public NetnsFactAttribute()
    {
        if (NetworkNamespaces.Unavailable is { } why)
        {
            Skip = why;
        }
    }
}

/// <summary>The swarm across hosts: every process in a network namespace of its own, joined by shaped veth links.</summary>
public sealed class NetworkNamespaceTests : IDisposable
{
    private readonly string _model = Path.Combine(Path.GetTempPath(), $"strata-cli-netns-test-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_model))
        {
            Directory.Delete(_model, recursive: true);
        }
    }

    [NetnsFact]
    [Trait("Category", "Integration")]
    public void A_coordinator_three_block_servers_and_a_client_in_five_namespaces_generate_the_local_tokens_also_after_a_server_is_killed()
    {
        CliRun.Of("model", "init", "--preset", "tiny", "--seed", "3", "--out", _model).ShouldSucceed();
        string[] common = ["--model", _model, "--prompt", "Hello", "--max-tokens", "16", "--temperature", "0", "--json"];
        var local = Tokens(CliRun.Of(["generate", "--local", .. common]).ShouldSucceed().Json());

        string[] hosts = ["coord", "s1", "s2", "s3", "client"];
        string hub;
        using (var net = NetworkNamespaces.Create(hosts, rateMbit: 100))
        {
            hub = net.Namespace("hub");
            var ip = net.Addresses;
            using var coordinator = ServeProcess.StartIn(net.Namespace("coord"),
                "serve", "coordinator", "--host", ip["coord"], "--port", "0", "--join-token", "t0k", "--heartbeat-ms", "2000");
            var url = coordinator.Address.ToString();
            Assert.Equal(ip["coord"], coordinator.Address.Host);
            string[] Block(string blocks) => ["serve", "block", "--coordinator", url, "--model", _model, "--blocks", blocks, "--port", "0", "--join-token", "t0k"];
            using var whole = ServeProcess.StartIn(net.Namespace("s1"), [.. Block("0:4"), "--host", ip["s1"]]);
            using var front = ServeProcess.StartIn(net.Namespace("s2"), [.. Block("0:2"), "--host", ip["s2"]]);
            // Bound to every interface, registered under the address peers reach it at (--advertise without a port: the bound one).
            using var back = ServeProcess.StartIn(net.Namespace("s3"), [.. Block("2:2"), "--host", "0.0.0.0", "--advertise", $"http://{ip["s3"]}"]);
            Assert.Equal(ip["s3"], back.Address.Host);

            var first = Generate(net.Namespace("client"), ["generate", "--coordinator", url, .. common], "all servers up");
            Assert.Equal(local, Tokens(first));
            Assert.All(Servers(first), s => Assert.StartsWith("http://10.77.0.", s, StringComparison.Ordinal));

            // One server killed: a replica chain (s2 + s3) covers its blocks. The coordinator lists the dead server for up to
            // three heartbeats (6 s), so the client may be routed to it and must fail over across the links.
            var wholeUrl = whole.Address.ToString();
            whole.Kill();
            var second = Generate(net.Namespace("client"), ["generate", "--coordinator", url, .. common], "after s1's SIGKILL");
            Assert.Equal(local, Tokens(second));
            Assert.DoesNotContain(wholeUrl, Servers(second));
            Assert.Equal([front.Address.ToString(), back.Address.ToString()], Servers(second));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"netns swarm over 100 Mbit/s tbf links: TTFT {second.GetProperty("ttftSeconds").GetDouble():0.000} s, TPOT {second.GetProperty("tpotSeconds").GetDouble() * 1000:0.0} ms, {second.GetProperty("failovers").GetInt32()} failover(s) after the kill"));
        }

        Assert.False(NetworkNamespaces.Exists(hub), $"namespace {hub} was left behind");
    }

    private static int[] Tokens(JsonElement json) => [.. json.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32())];

    private static string[] Servers(JsonElement json) => [.. json.GetProperty("route").EnumerateArray().Select(h => h.GetProperty("server").GetString() ?? string.Empty)];

    // `strata generate` as a process inside the client's namespace; its JSON, or a failure with everything it printed.
    private static JsonElement Generate(string netns, string[] arguments, string when)
    {
        using var process = Process.Start(ServeProcess.StartInfo(netns, arguments)) ?? throw new InvalidOperationException("ip netns exec did not start.");
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
            Assert.Fail($"{when}: strata {string.Join(' ', arguments)} did not finish within 120 s.");
        }

        Assert.True(process.ExitCode == 0, $"{when}: strata {string.Join(' ', arguments)} exited {process.ExitCode}:\n{output.Result}\n{error.Result}");
        using var document = JsonDocument.Parse(output.Result);
        return document.RootElement.Clone();
    }
}
