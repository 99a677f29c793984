using Strata.Core.Catalogs;
using Strata.Core.Models;
using Strata.Core.Scenarios;

namespace Strata.Core.Tests.Scenarios;

public sealed class ScenarioExampleTests
{
    public static TheoryData<string> Examples()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(ScenarioTestFiles.ExamplesDirectory, "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_scenario_loads_against_the_built_in_catalog(string fileName)
    {
        var scenario = ScenarioLoader.Load(Path.Combine(ScenarioTestFiles.ExamplesDirectory, fileName), Catalog.BuiltIn);

        Assert.False(string.IsNullOrWhiteSpace(scenario.Name));
        Assert.NotEmpty(scenario.Models);
        Assert.NotEmpty(scenario.Machines);
        Assert.NotNull(scenario.Workload);
    }

    [Fact]
    public void The_four_documented_examples_exist()
    {
        var names = Directory.GetFiles(ScenarioTestFiles.ExamplesDirectory, "*.yaml").Select(Path.GetFileName).ToHashSet();

        Assert.Superset(names, new HashSet<string?> { "splitwise-conversation.yaml", "swarm-clustered.yaml", "split-mixed-clients.yaml", "tiny.yaml" });
    }

    [Fact]
    public void Splitwise_conversation_has_h100_prompt_pool_a100_token_pool_and_the_conv_trace()
    {
        var scenario = Load("splitwise-conversation.yaml");

        Assert.Equal("llama-2-70b", scenario.Models.Single().Architecture.Id.Value);
        Assert.Collection(
            scenario.Machines,
            prompt =>
            {
                Assert.Equal(("dgx-h100", 25, MachinePoolRole.Prompt), (prompt.Machine.Id.Value, prompt.Count, prompt.Role));
                Assert.Equal(8, prompt.Machine.DeviceCount);
            },
            token => Assert.Equal(("dgx-a100", 26, MachinePoolRole.Token), (token.Machine.Id.Value, token.Count, token.Role)));
        var workload = scenario.Workload!;
        Assert.Equal(TraceKind.AzureConversation, workload.Trace!.Kind);
        Assert.Equal(80, workload.RateRequestsPerSecond);
        Assert.Equal(600, workload.DurationSeconds);
        Assert.Equal(SlowdownSlo.Splitwise, scenario.Slos.Slowdown);
        Assert.Equal(["splitwise-ha", "baseline-h100"], scenario.Policies.Designs);
    }

    [Fact]
    public void Swarm_clustered_asks_for_bloom_on_a_clustered_topology_with_fixed_lengths()
    {
        var scenario = Load("swarm-clustered.yaml");

        Assert.Equal("bloom-176b", scenario.Models.Single().Architecture.Id.Value);
        Assert.Equal(TopologyPreset.Clustered, scenario.Topology!.Preset);
        var workload = scenario.Workload!;
        Assert.Equal((0.1, ArrivalProcess.Poisson), (workload.RateRequestsPerSecond!.Value, workload.Arrivals));
        Assert.Equal(new FixedLengthSpec(20), workload.PromptTokens);
        Assert.Equal(new FixedLengthSpec(128), workload.OutputTokens);
        Assert.Equal(["petals", "cg-bp"], scenario.Policies.Placement);
        Assert.Equal(["petals", "ws-rr"], scenario.Policies.Routing);
        Assert.All(scenario.Machines, pool => Assert.Equal(Precision.Int8, pool.Precision));
    }

    [Fact]
    public void Split_mixed_clients_gives_each_client_population_its_device_and_link()
    {
        var scenario = Load("split-mixed-clients.yaml");

        Assert.Equal("llama-2-7b", scenario.Models.Single().Id);
        Assert.Equal("a100-80gb", scenario.Machines.Single().Machine.Device.Id.Value);
        Assert.Equal(
            [("phones", "snapdragon-8-gen-3", "5g"), ("laptops", "laptop-core-i7-13700h", "wifi"), ("jetsons", "jetson-agx-orin-64gb", "lte")],
            scenario.Clients.Select(client => (client.Id, client.Device.Id.Value, client.Link.Id)));
        Assert.Equal(1.0, scenario.Clients.Sum(client => client.Share), 9);
        Assert.IsType<LognormalLengthSpec>(scenario.Workload!.PromptTokens);
        Assert.Equal(["dp", "greedy", "prefix", "server"], scenario.Policies.Split);
    }

    [Fact]
    public void Tiny_uses_the_tiny_test_model_and_scalar_length_shorthand()
    {
        var scenario = Load("tiny.yaml");

        Assert.Equal("tiny-llama-test", scenario.Models.Single().Id);
        Assert.Equal(new FixedLengthSpec(16), scenario.Workload!.PromptTokens);
        Assert.Equal(10, scenario.Workload.Requests);
        Assert.Equal(1, scenario.Machines.Single().Count);
        Assert.Equal(MachinePoolRole.Both, scenario.Machines.Single().Role);
    }

    private static Scenario Load(string fileName) =>
        ScenarioLoader.Load(Path.Combine(ScenarioTestFiles.ExamplesDirectory, fileName), Catalog.BuiltIn);
}
