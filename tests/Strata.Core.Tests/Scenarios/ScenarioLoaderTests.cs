using Strata.Core.Catalogs;
using Strata.Core.Hardware;
using Strata.Core.Models;
using Strata.Core.Scenarios;
using Strata.Core.Workload;

namespace Strata.Core.Tests.Scenarios;

public sealed class ScenarioLoaderTests
{
    private const string ExtraCatalog = """
        {"devices": [{"id": "extra-gpu", "name": "Extra GPU", "kind": "gpu", "memoryBytes": 48e9,
                      "memoryBandwidthBytesPerSecond": 1e12, "peakFlopsPerSecond": {"fp16": 150e12}, "pricePerHour": 1.5}]}
        """;

    private const string ModelConfig = """
        {"hidden_size": 2048, "num_hidden_layers": 22, "num_attention_heads": 32, "num_key_value_heads": 4,
         "intermediate_size": 5632, "vocab_size": 32000, "model_type": "llama"}
        """;

    [Fact]
    public void Every_field_of_the_full_file_round_trips_into_the_records()
    {
        var directory = ScenarioTestFiles.NewTempDirectory();
        var path = Path.Combine(directory, "full.yaml");
        File.Copy(ScenarioTestFiles.File("full.yaml"), path);
        File.WriteAllText(Path.Combine(directory, "extra-catalog.json"), ExtraCatalog);
        Directory.CreateDirectory(Path.Combine(directory, "model"));
        File.WriteAllText(Path.Combine(directory, "model", "config.json"), ModelConfig);
        File.WriteAllText(Path.Combine(directory, "net.graph"), "# graph\n");
        File.WriteAllText(Path.Combine(directory, "trace.csv"), "TIMESTAMP,ContextTokens,GeneratedTokens\n");

        var scenario = ScenarioLoader.Load(path, Catalog.BuiltIn);

        Assert.Equal("full-round-trip", scenario.Name);
        Assert.Equal("Every field set once.", scenario.Description);
        Assert.Equal(9, scenario.Seed);
        Assert.Equal(Path.GetFullPath(path), scenario.SourcePath);
        Assert.Equal(Path.Combine(directory, "extra-catalog.json"), scenario.CatalogPath);
        Assert.True(scenario.Catalog.HasDevice("extra-gpu"));

        Assert.Collection(
            scenario.Models,
            model =>
            {
                Assert.Equal(("llama-2-7b", ScenarioModelOrigin.Catalog, "Llama 2 7B (renamed)"), (model.Id, model.Origin, model.Architecture.Name));
                Assert.Equal(32, model.Architecture.LayerCount);
            },
            model =>
            {
                Assert.Equal(("inline-model", ScenarioModelOrigin.InlineConfig), (model.Id, model.Origin));
                Assert.Equal((4096, 32, 32, 8, 11008, 32000), (model.Architecture.HiddenSize, model.Architecture.LayerCount, model.Architecture.AttentionHeadCount, model.Architecture.KeyValueHeadCount, model.Architecture.IntermediateSize, model.Architecture.VocabularySize));
                Assert.Equal(MlpKind.Gated, model.Architecture.Mlp);
            },
            model =>
            {
                Assert.Equal(("file-model", ScenarioModelOrigin.ConfigFile), (model.Id, model.Origin));
                Assert.Equal((2048, 22, 4), (model.Architecture.HiddenSize, model.Architecture.LayerCount, model.Architecture.KeyValueHeadCount));
            });

        var npu = Assert.Single(scenario.Devices);
        Assert.Equal(("my-npu", "My NPU", DeviceKind.Edge, 8_000_000_000L), (npu.Id.Value, npu.Name, npu.Kind, npu.MemoryBytes));
        Assert.Equal(100e9, npu.MemoryBandwidthBytesPerSecond);
        Assert.Equal(20e12, npu.PeakFlopsPerSecond[Precision.Fp16]);
        Assert.Equal(15, npu.PowerWatts);

        Assert.Collection(
            scenario.Machines,
            pool => Assert.Equal(("prompt-pool", "dgx-h100", 8, 25, MachinePoolRole.Prompt, (Precision?)Precision.Fp16), (pool.Id, pool.Machine.Id.Value, pool.Machine.DeviceCount, pool.Count, pool.Role, pool.Precision)),
            pool => Assert.Equal(("token-pool", "a100-80gb", 4, 0, MachinePoolRole.Token, (Precision?)Precision.Int8), (pool.Id, pool.Machine.Device.Id.Value, pool.Machine.DeviceCount, pool.Count, pool.Role, pool.Precision)),
            pool => Assert.Equal(("mixed-pool", "extra-gpu", 1, 1, MachinePoolRole.Mixed, (Precision?)null), (pool.Id, pool.Machine.Device.Id.Value, pool.Machine.DeviceCount, pool.Count, pool.Role, pool.Precision)),
            pool => Assert.Equal(("npu-pool", "my-npu", 2, 3, MachinePoolRole.Both), (pool.Id, pool.Machine.Device.Id.Value, pool.Machine.DeviceCount, pool.Count, pool.Role)));

        Assert.Collection(
            scenario.Links,
            link => Assert.Equal(("5g", 0.02, 12.5e6), (link.Id, link.Spec.LatencySeconds, link.Spec.BandwidthBytesPerSecond)),
            link => Assert.Equal(("wifi", 0.005, 50e6), (link.Id, link.Spec.LatencySeconds, link.Spec.BandwidthBytesPerSecond)),
            link => Assert.Equal(("fiber", 0.0, 1.25e9), (link.Id, link.Spec.LatencySeconds, link.Spec.BandwidthBytesPerSecond)));

        Assert.Collection(
            scenario.Clients,
            client => Assert.Equal(("phones", "snapdragon-8-gen-3", 0.25, "5g"), (client.Id, client.Device.Id.Value, client.Share, client.Link.Id)),
            client => Assert.Equal(("npus", "my-npu", 0.75, "wifi"), (client.Id, client.Device.Id.Value, client.Share, client.Link.Id)));

        Assert.Equal(new TopologySpec(TopologyPreset.File, Path.Combine(directory, "net.graph")), scenario.Topology);

        var workload = scenario.Workload!;
        Assert.False(workload.IsTrace);
        Assert.Equal((3.5, 120.0, (int?)null, ArrivalProcess.Gamma, 4.0), (workload.RateRequestsPerSecond!.Value, workload.DurationSeconds!.Value, workload.Requests, workload.Arrivals, workload.Burstiness));
        Assert.Equal(new TraceLengthSpec(new TraceSource(TraceKind.File, Path.Combine(directory, "trace.csv"))), workload.PromptTokens);
        Assert.Equal(new UniformLengthSpec(1, 100), workload.OutputTokens);

        Assert.Equal(SlowdownSlo.Splitwise, scenario.Slos.Slowdown);
        Assert.Collection(
            scenario.Slos.Classes,
            slo => Assert.Equal(new SloClass("interactive", new ServiceLevelObjective(1, 0.1)), slo),
            slo => Assert.Equal(new SloClass("batch", new ServiceLevelObjective(E2eSeconds: 600)), slo));

        Assert.Equal(["splitwise-ha", "baseline-h100"], scenario.Policies.Designs);
        Assert.Equal(["petals", "cg-bp"], scenario.Policies.Placement);
        Assert.Equal(["ws-rr"], scenario.Policies.Routing);
        Assert.Equal(["dp", "exhaustive"], scenario.Policies.Split);
    }

    [Fact]
    public void Absent_sections_take_their_documented_defaults()
    {
        var scenario = ScenarioLoader.Parse("name: bare\n", "bare.yaml", Catalog.BuiltIn);

        Assert.Equal(("bare", (string?)null, 0), (scenario.Name, scenario.Description, scenario.Seed));
        Assert.Empty(scenario.Models);
        Assert.Empty(scenario.Machines);
        Assert.Empty(scenario.Clients);
        Assert.Null(scenario.Topology);
        Assert.Null(scenario.Workload);
        Assert.True(scenario.Slos.IsEmpty);
        Assert.Same(PolicySelection.Empty, scenario.Policies);
        Assert.Same(Catalog.BuiltIn, scenario.Catalog);
    }

    [Fact]
    public void A_trace_workload_keeps_rate_and_window_and_takes_lengths_from_the_trace()
    {
        const string Yaml = """
            name: trace
            workload:
              trace: code
              rateRequestsPerSecond: 40
              requests: 500
            """;

        var workload = ScenarioLoader.Parse(Yaml, "trace.yaml", Catalog.BuiltIn).Workload!;

        Assert.Equal(new TraceSource(TraceKind.AzureCode), workload.Trace);
        Assert.Equal((40.0, 500, (double?)null), (workload.RateRequestsPerSecond!.Value, workload.Requests!.Value, workload.DurationSeconds));
        Assert.Null(workload.PromptTokens);
    }

    [Fact]
    public void A_catalog_file_named_by_the_scenario_overrides_built_in_entries()
    {
        var directory = ScenarioTestFiles.NewTempDirectory();
        File.WriteAllText(Path.Combine(directory, "cheap.json"), """
            {"devices": [{"id": "a100-80gb", "name": "Discount A100", "kind": "gpu", "memoryBytes": 85899345920,
                          "memoryBandwidthBytesPerSecond": 2039e9, "peakFlopsPerSecond": {"fp16": 312e12}, "pricePerHour": 0.5}]}
            """);
        var path = Path.Combine(directory, "s.yaml");
        File.WriteAllText(path, "name: cheap\ncatalog: cheap.json\nmachines:\n  - id: pool\n    machine: a100-80gb\n");

        var scenario = ScenarioLoader.Load(path, Catalog.BuiltIn);

        Assert.Equal(0.5, scenario.Machines.Single().Machine.PricePerHour);
        Assert.Equal("Discount A100", scenario.Catalog.Device("a100-80gb").Name);
        Assert.NotEqual(0.5, Catalog.BuiltIn.Device("a100-80gb").PricePerHour);
    }

    [Fact]
    public void The_callers_catalog_is_the_one_references_resolve_against()
    {
        var directory = ScenarioTestFiles.NewTempDirectory();
        var catalogPath = Path.Combine(directory, "extra.json");
        File.WriteAllText(catalogPath, ExtraCatalog);
        const string Yaml = "name: custom\nmachines:\n  - id: pool\n    machine: 2xextra-gpu\n";

        var scenario = ScenarioLoader.Parse(Yaml, "custom.yaml", Catalog.BuiltIn.WithFile(catalogPath));

        Assert.Equal(("extra-gpu", 2), (scenario.Machines.Single().Machine.Device.Id.Value, scenario.Machines.Single().Machine.DeviceCount));
        Assert.Throws<StrataException>(() => ScenarioLoader.Parse(Yaml, "custom.yaml", Catalog.BuiltIn));
    }

    [Fact]
    public void An_inline_device_shadows_a_catalog_device_of_the_same_id()
    {
        const string Yaml = """
            name: shadow
            devices:
              - {id: t4, kind: gpu, memoryBytes: 1e9, memoryBandwidthBytesPerSecond: 1e9, peakFlopsPerSecond: {fp16: 1e12}}
            machines:
              - {id: pool, machine: t4}
            """;

        var scenario = ScenarioLoader.Parse(Yaml, "shadow.yaml", Catalog.BuiltIn);

        Assert.Equal(1_000_000_000L, scenario.Machines.Single().Machine.Device.MemoryBytes);
    }

    [Fact]
    public void Link_units_convert_to_one_way_seconds_and_bytes_per_second()
    {
        const string Yaml = """
            name: units
            links:
              - {id: a, rttSeconds: 0.1, bandwidthMbps: 8}
              - {id: b, latencySeconds: 0.1, bandwidthGbps: 8}
            """;

        var links = ScenarioLoader.Parse(Yaml, "units.yaml", Catalog.BuiltIn).Links;

        Assert.Equal((0.05, 1e6), (links[0].Spec.LatencySeconds, links[0].Spec.BandwidthBytesPerSecond));
        Assert.Equal((0.1, 1e9), (links[1].Spec.LatencySeconds, links[1].Spec.BandwidthBytesPerSecond));
    }

    [Fact]
    public void Lognormal_lengths_derive_mu_and_sigma_from_median_and_p90()
    {
        var spec = new LognormalLengthSpec(1020, 2734);

        Assert.Equal(Math.Log(1020), spec.Mu, 12);
        Assert.Equal(2734, Math.Exp(spec.Mu + 1.2815515655446004 * spec.Sigma), 6);
    }
}
