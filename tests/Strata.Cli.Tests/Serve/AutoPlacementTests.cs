using System.Diagnostics;
using Strata.Core.Placement;
using Strata.Runtime.Coordination;
using Strata.Runtime.Weights;

namespace Strata.Cli.Tests.Serve;

/// <summary>README's recipe: a <c>--blocks</c> server and an <c>--auto</c> one started together end with every block served.</summary>
public sealed class AutoPlacementTests : IDisposable
{
    private readonly string _model = Path.Combine(Path.GetTempPath(), $"strata-cli-auto-test-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_model))
        {
            Directory.Delete(_model, recursive: true);
        }
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task An_auto_server_that_registered_before_a_fixed_one_moves_until_every_block_is_served_and_generate_equals_local()
    {
        CliRun.Of("model", "init", "--preset", "tiny", "--seed", "3", "--out", _model).ShouldSucceed();
        var config = ModelFolder.LoadConfig(_model);
        var memory = (LlamaWeightsLoader.BlockBytes(config) * 3).ToString(System.Globalization.CultureInfo.InvariantCulture); // 3 of the 4 blocks

        using var coordinator = ServeProcess.Start("serve", "coordinator", "--port", "0", "--join-token", "t0k", "--heartbeat-ms", "300");
        var url = coordinator.Address.ToString();
        // The race of README's recipe, made certain: --auto registers first (on an empty swarm it gets [0, 3)), then --blocks 0:2.
        using var auto = ServeProcess.Start("serve", "block", "--coordinator", url, "--model", _model, "--auto", "--memory-bytes", memory, "--port", "0", "--join-token", "t0k");
        for (var wait = 0; wait < 100 && !auto.Log.Contains("registered as", StringComparison.Ordinal); wait++)
        {
            await Task.Delay(100); // the registration line follows the listening line
        }

        Assert.Contains("blocks [0, 3)", auto.Log, StringComparison.Ordinal);
        using var fixedServer = ServeProcess.Start("serve", "block", "--coordinator", url, "--model", _model, "--blocks", "0:2", "--port", "0", "--join-token", "t0k");

        using var client = new CoordinatorClient(coordinator.Address);
        var clock = Stopwatch.StartNew();
        IReadOnlyList<int> uncovered = [3];
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            var servers = await client.ListServersAsync();
            uncovered = PlacementAdvisor.Uncovered(servers.Select(s => new BlockRange(s.FirstBlock, s.BlockCount)), BlockRange.All(config.LayerCount));
            if (uncovered.Count == 0 && servers.Count == 2)
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.True(uncovered.Count == 0, $"blocks {PlacementAdvisor.DescribeBlocks(uncovered)} still unserved after 30 s;\nauto:\n{auto.Log}\ncoordinator:\n{coordinator.Log}");
        Assert.Contains("moving from blocks [0, 3) to [1, 4)", auto.Log, StringComparison.Ordinal);
        Assert.Contains("moving server", coordinator.Log, StringComparison.Ordinal);

        string[] common = ["--model", _model, "--prompt", "Hello", "--max-tokens", "8", "--temperature", "0", "--json"];
        var local = CliRun.Of(["generate", "--local", .. common]).ShouldSucceed().Json().GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        var swarm = CliRun.Of(["generate", "--coordinator", url, .. common]).ShouldSucceed().Json();
        Assert.Equal(local, swarm.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));

        // Covered now: the server stays where it is (no move back and forth).
        await Task.Delay(1000);
        Assert.Single(auto.Log.Split('\n'), l => l.Contains("moving from", StringComparison.Ordinal));
    }

    [Fact]
    public void Bad_host_and_advertise_values_fail_with_one_sentence()
    {
        CliRun.Of("serve", "coordinator", "--host", "example.com").ShouldFailCleanly("--host", "example.com");
        CliRun.Of("serve", "coordinator", "--advertise", "ftp://10.0.0.1:1").ShouldFailCleanly("--advertise");
        CliRun.Of("serve", "coordinator", "--advertise", "http://10.0.0.1:1/path").ShouldFailCleanly("--advertise");
    }
}
