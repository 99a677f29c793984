namespace Strata.Cli.Tests;

/// <summary>The sample files under <c>examples/</c> that the README points at are accepted by the commands it shows them with.</summary>
public sealed class ExamplesTests
{
    private static readonly string Examples = Path.Combine(RepositoryRoot(), "examples");

    [Fact]
    public void The_example_config_json_is_a_model_estimate_takes()
    {
        var json = CliRun.Of("estimate", "--model", Path.Combine(Examples, "llama-2-7b", "config.json"), "--gpu", "a100-80gb", "--prompt", "512", "--output", "128", "--json")
            .ShouldSucceed().Json();

        Assert.Equal("llama-2-7b", json.GetProperty("model").GetString());
        Assert.True(json.GetProperty("fits").GetBoolean());
    }

    [Fact]
    public void The_example_gpu_catalog_adds_a_device_and_a_machine()
    {
        var catalog = Path.Combine(Examples, "my-gpus.json");
        var devices = CliRun.Of("--catalog", catalog, "catalog", "devices", "--json").ShouldSucceed().Json();
        var machines = CliRun.Of("--catalog", catalog, "catalog", "machines", "--json").ShouldSucceed().Json();

        Assert.Contains(devices.EnumerateArray(), d => d.GetProperty("id").GetString() == "my-gpu-48gb");
        Assert.Contains(machines.EnumerateArray(), m => m.GetProperty("id").GetString() == "my-box");
        CliRun.Of("--catalog", catalog, "estimate", "--model", "llama-2-7b", "--gpu", "my-gpu-48gb", "--prompt", "512", "--output", "128", "--json").ShouldSucceed();
    }

    [Fact]
    public void The_example_split_instance_is_planned_by_the_dp()
    {
        var json = CliRun.Of("split", "--instance", Path.Combine(Examples, "split-instance.json"), "--algorithm", "dp", "--json").ShouldSucceed().Json();

        Assert.True(json.GetProperty("feasible").GetBoolean());
        Assert.Equal(4, json.GetProperty("assignment").GetArrayLength());
    }

    private static string RepositoryRoot()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Strata.slnx")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException($"No Strata.slnx above {AppContext.BaseDirectory}.");
        }

        return root;
    }
}
