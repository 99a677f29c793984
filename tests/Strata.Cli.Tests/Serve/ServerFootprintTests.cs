using Strata.Runtime.Coordination;

namespace Strata.Cli.Tests.Serve;

/// <summary>
/// What a serving process maps: neither OR-Tools (the MILP, in Strata.Planning.Milp) nor SkiaSharp (the report charts)
/// reaches a coordinator or a block server, even after it has served a generation.
/// </summary>
public sealed class ServerFootprintTests : IDisposable
{
    private static readonly string[] Heavy = ["Google.OrTools", "ortools", "SkiaSharp", "ScottPlot"];
    private readonly string _model = Path.Combine(Path.GetTempPath(), $"strata-footprint-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_model))
        {
            Directory.Delete(_model, recursive: true);
        }
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Coordinator_and_block_server_load_neither_the_solver_nor_the_chart_library()
    {
        if (!File.Exists("/proc/self/maps"))
        {
            return; // only Linux says what a process has mapped; nothing to check elsewhere
        }

        CliRun.Of("model", "init", "--preset", "tiny", "--seed", "3", "--out", _model).ShouldSucceed();
        using var coordinator = ServeProcess.Start("serve", "coordinator", "--port", "0", "--heartbeat-ms", "300");
        var url = coordinator.Address.ToString();
        using var block = ServeProcess.Start("serve", "block", "--coordinator", url, "--model", _model, "--blocks", "0:4", "--port", "0");
        using (var client = new CoordinatorClient(coordinator.Address))
        {
            for (var wait = 0; wait < 300 && !(await client.ListServersAsync()).Any(s => s.Url == block.Address.ToString()); wait++)
            {
                await Task.Delay(100);
            }
        }

        CliRun.Of("generate", "--coordinator", url, "--model", _model, "--prompt", "Hello", "--max-tokens", "4", "--json").ShouldSucceed();

        foreach (var process in new[] { coordinator, block })
        {
            var maps = File.ReadAllText($"/proc/{process.ProcessId}/maps");
            Assert.Contains("Strata.Runtime.dll", maps, StringComparison.Ordinal); // the check reads the right process
            foreach (var library in Heavy)
            {
                Assert.False(maps.Contains(library, StringComparison.OrdinalIgnoreCase), $"strata {string.Join(' ', process.Arguments)} mapped {library}.");
            }
        }
    }

    [Fact]
    public void The_milp_is_known_by_name_once_the_cli_has_registered_it()
    {
        CliRun.Of("swarm", "plan", "--help").ShouldSucceed();
        Assert.Contains(Strata.Planning.Placement.PlacementPolicies.Milp, Strata.Planning.Placement.PlacementPolicies.Names);
    }
}
