using Strata.Core.Catalogs;
using Strata.Core.Scenarios;

namespace Strata.Core.Tests.Scenarios;

public sealed class ScenarioValidationTests
{
    private const string File = "scenarios/broken.yaml";

    [Fact]
    public void Negative_machine_count_names_file_line_field_and_value()
    {
        var path = ScenarioTestFiles.File("negative-count.yaml");

        var error = Assert.Throws<StrataException>(() => ScenarioLoader.Load(path, Catalog.BuiltIn));

        Assert.Equal($"{path}:10: machines[1].count is -3; expected an integer >= 0.", error.Message);
    }

    [Fact]
    public void Unknown_top_level_key_suggests_the_closest_key()
    {
        var path = ScenarioTestFiles.File("unknown-top-level-key.yaml");

        var error = Assert.Throws<StrataException>(() => ScenarioLoader.Load(path, Catalog.BuiltIn));

        Assert.Equal($"{path}:2: unknown key 'modle' in the top level; did you mean 'models'?", error.Message);
    }

    [Fact]
    public void Malformed_yaml_names_file_line_and_column()
    {
        var path = ScenarioTestFiles.File("bad-syntax.yaml");

        var error = Assert.Throws<StrataException>(() => ScenarioLoader.Load(path, Catalog.BuiltIn));

        Assert.True(error.Message.StartsWith($"{path}:6:14:", StringComparison.Ordinal), error.Message);
        Assert.Contains(": not valid YAML: ", error.Message);
        Assert.EndsWith(".", error.Message);
        Assert.DoesNotContain("(Line", error.Message);
    }

    [Fact]
    public void Yaml_syntax_errors_keep_the_parsers_reason_and_position_without_its_prefix()
    {
        var error = Assert.Throws<StrataException>(() => ScenarioLoader.Parse("name: x\nseed: 1\n  bad: 2\n", File, Catalog.BuiltIn));

        Assert.Matches(@"^scenarios/broken\.yaml:3:\d+: not valid YAML: [^(].*\.$", error.Message);
    }

    [Fact]
    public void Unknown_catalog_model_prefixes_the_catalog_message_with_file_line_and_field()
    {
        var path = ScenarioTestFiles.File("unknown-model.yaml");

        var error = Assert.Throws<StrataException>(() => ScenarioLoader.Load(path, Catalog.BuiltIn));

        Assert.StartsWith($"{path}:4: models[1].id: Unknown model 'lama-2-70b'.", error.Message);
        Assert.Contains("Did you mean 'llama-2-70b'?", error.Message);
    }

    [Fact]
    public void Missing_scenario_file_says_it_does_not_exist()
    {
        var error = Assert.Throws<StrataException>(() => ScenarioLoader.Load("no/such/x.yaml", Catalog.BuiltIn));

        Assert.Equal("Scenario file 'no/such/x.yaml' does not exist.", error.Message);
    }

    [Theory]
    [InlineData("", "broken.yaml:1: the file is empty")]
    [InlineData("- just\n- a list\n", "broken.yaml:1: the top level is a list; expected a mapping")]
    [InlineData("description: no name\n", "broken.yaml:1: the top level has no 'name'")]
    [InlineData("name: x\nseed: -1\n", "broken.yaml:2: seed is -1; expected an integer >= 0.")]
    [InlineData("name: x\nseed: 1.5\n", "broken.yaml:2: seed is 1.5; expected an integer >= 0.")]
    [InlineData("name: x\nname: y\n", "broken.yaml:2:")]
    [InlineData("name: x\n---\nname: y\n", "broken.yaml:3: a second YAML document")]
    public void File_level_mistakes_name_the_line(string yaml, string expected) =>
        AssertFails(yaml, expected);

    [Theory]
    [InlineData("machines:\n  - {id: p, machine: a100-80gb, cuont: 2}", "broken.yaml:3: unknown key 'cuont' in machines[0]; did you mean 'count'?")]
    [InlineData("machines:\n  - {id: p, machine: a100-80gb, role: promt}", "broken.yaml:3: machines[0].role is 'promt'; expected one of both, prompt, token, mixed (did you mean 'prompt'?).")]
    [InlineData("machines:\n  - {id: p, machine: a100-80gb, precision: fp12}", "broken.yaml:3: machines[0].precision is 'fp12'; expected one of fp32")]
    [InlineData("machines:\n  - {id: p, machine: dgx-h1000}", "broken.yaml:3: machines[0].machine: Unknown machine 'dgx-h1000'. Did you mean 'dgx-h100'?")]
    [InlineData("machines:\n  - {id: p}", "broken.yaml:3: machines[0] has no 'machine'; expected a catalog machine id")]
    [InlineData("machines:\n  - {id: p, machine: t4}\n  - {id: p, machine: t4}", "broken.yaml:4: machines[1].id is 'p', which machines[0] already uses; expected a unique id.")]
    [InlineData("machines: {id: p}", "broken.yaml:2: machines is a mapping; expected a list")]
    [InlineData("models:\n  - id: my\n    config: {num_hidden_layers: 2, num_attention_heads: 2, vocab_size: 10}", "broken.yaml:4: models[0].config: model 'my' has no 'hidden_size' field")]
    [InlineData("models:\n  - id: my\n    config: {hidden_size: 10, num_hidden_layers: 2, num_attention_heads: 3, vocab_size: 10}", "broken.yaml:4: models[0].config: Model 'my': hidden_size 10 is not a multiple of num_attention_heads 3.")]
    [InlineData("models:\n  - id: my\n    configPath: missing/config.json", "broken.yaml:4: models[0].configPath is 'missing/config.json', which does not exist")]
    [InlineData("models:\n  - id: my\n    config: {hidden_size: 8}\n    configPath: x.json", "broken.yaml:5: models[0] has both 'config' and 'configPath'")]
    [InlineData("devices:\n  - {id: npu, kind: edge, memoryBandwidthBytesPerSecond: 1e9, peakFlopsPerSecond: {fp16: 1e12}}", "broken.yaml:3: devices[0]: device 'npu' has no 'memoryBytes' field.")]
    [InlineData("devices:\n  - {id: npu, kind: toaster}", "broken.yaml:3: devices[0]: device 'npu' field 'kind' is 'toaster'")]
    public void Cluster_mistakes_name_file_line_field_and_value(string body, string expected) =>
        AssertFails("name: x\n" + body, expected);

    [Theory]
    [InlineData("links:\n  - {id: l, latencySeconds: -1, bandwidthMbps: 5}", "broken.yaml:3: links[0].latencySeconds is -1; expected a number of seconds >= 0.")]
    [InlineData("links:\n  - {id: l, latencySeconds: 0.1}", "broken.yaml:3: links[0] has none of 'bandwidthBytesPerSecond', 'bandwidthMbps', 'bandwidthGbps'")]
    [InlineData("links:\n  - {id: l, latencySeconds: 0.1, rttSeconds: 0.2, bandwidthMbps: 5}", "broken.yaml:3: links[0] has both 'latencySeconds' and 'rttSeconds'")]
    [InlineData("links:\n  - {id: l, latencySeconds: 0.1, bandwidthGbps: 0}", "broken.yaml:3: links[0].bandwidthGbps is 0; expected a number > 0.")]
    [InlineData(
        "links:\n  - {id: 5g, latencySeconds: 0.02, bandwidthMbps: 100}\nclients:\n  - {id: c, device: snapdragon-8-gen-3, share: 1, link: 5G-x}",
        "broken.yaml:5: clients[0].link is '5G-x'; expected the id of a link under 'links', one of 5g (did you mean '5g'?).")]
    [InlineData(
        "clients:\n  - {id: c, device: snapdragon-8-gen-3, share: 1, link: wifi}",
        "broken.yaml:3: clients[0].link is 'wifi'; expected the id of a link under 'links', but 'links' defines none.")]
    [InlineData(
        "links:\n  - {id: l, latencySeconds: 0, bandwidthMbps: 1}\nclients:\n  - {id: a, device: snapdragon-8-gen-3, share: 0.5, link: l}\n  - {id: b, device: snapdragon-8-gen-3, share: 0.4, link: l}",
        "broken.yaml:5: clients[*].share sum to 0.9 (0.5 + 0.4); expected them to sum to 1 (within 1E-06).")]
    [InlineData(
        "links:\n  - {id: l, latencySeconds: 0, bandwidthMbps: 1}\nclients:\n  - {id: a, device: snapdragon-8-gen-3, share: 1.5, link: l}",
        "broken.yaml:5: clients[0].share is 1.5; expected a fraction in (0, 1].")]
    [InlineData(
        "links:\n  - {id: l, latencySeconds: 0, bandwidthMbps: 1}\nclients:\n  - {id: a, device: iphone-99, share: 1, link: l}",
        "broken.yaml:5: clients[0].device: Unknown device 'iphone-99'.")]
    [InlineData("topology: {preset: ring}", "broken.yaml:2: topology.preset is 'ring'; expected one of clustered, file.")]
    [InlineData("topology: {preset: file}", "broken.yaml:2: topology has no 'file'")]
    [InlineData("topology: {preset: file, file: nowhere.graph}", "broken.yaml:2: topology.file is 'nowhere.graph', which does not exist")]
    [InlineData("topology: {preset: clustered, file: x.graph}", "broken.yaml:2: topology.file is 'x.graph', but topology.preset is 'clustered'")]
    [InlineData("catalog: nowhere.json", "broken.yaml:2: catalog is 'nowhere.json', which does not exist")]
    public void Network_and_cross_reference_mistakes_name_file_line_field_and_value(string body, string expected) =>
        AssertFails("name: x\n" + body, expected);

    [Theory]
    [InlineData("workload:\n  trace: conv\n  promptTokens: {fixed: 5}", "broken.yaml:4: workload.promptTokens is a mapping, but workload.trace is set")]
    [InlineData("workload:\n  trace: conv\n  durationSeconds: 10\n  requests: 5", "broken.yaml:5: workload has both 'durationSeconds' and 'requests'")]
    [InlineData("workload:\n  trace: traces/missing.csv", "broken.yaml:3: workload.trace is 'traces/missing.csv', which does not exist")]
    [InlineData("workload:\n  requests: 5\n  promptTokens: 1\n  outputTokens: 1", "broken.yaml:2: workload has no 'rateRequestsPerSecond'; expected a rate > 0 in a synthetic workload (no 'trace'), or a 'trace' to replay.")]
    [InlineData("workload:\n  rateRequestsPerSecond: 0\n  requests: 5", "broken.yaml:3: workload.rateRequestsPerSecond is 0; expected a number of requests per second > 0.")]
    [InlineData("workload:\n  rateRequestsPerSecond: 1\n  promptTokens: 1\n  outputTokens: 1", "broken.yaml:2: workload has neither 'durationSeconds' nor 'requests'")]
    [InlineData("workload:\n  rateRequestsPerSecond: 1\n  requests: 5\n  outputTokens: 1", "broken.yaml:2: workload has no 'promptTokens'")]
    [InlineData("workload:\n  rateRequestsPerSecond: 1\n  requests: 5\n  burstiness: 2\n  promptTokens: 1\n  outputTokens: 1", "broken.yaml:5: workload.burstiness is 2, but arrivals are Poisson")]
    [InlineData("workload:\n  rateRequestsPerSecond: 1\n  requests: 5\n  arrivals: gamma\n  burstiness: 0\n  promptTokens: 1\n  outputTokens: 1", "broken.yaml:6: workload.burstiness is 0; expected a squared coefficient of variation > 0.")]
    [InlineData("workload:\n  rateRequestsPerSecond: 1\n  requests: 5\n  arrivals: bursty\n  promptTokens: 1\n  outputTokens: 1", "broken.yaml:5: workload.arrivals is 'bursty'; expected one of poisson, gamma.")]
    [InlineData("workload:\n  rateRequestsPerSecond: 1\n  requests: 5\n  promptTokens: {distribution: lognormal, median: 100, p90: 50}\n  outputTokens: 1", "broken.yaml:5: workload.promptTokens.p90 is 50; expected a token count > the median (100).")]
    [InlineData("workload:\n  rateRequestsPerSecond: 1\n  requests: 5\n  promptTokens: {distribution: uniform, min: 10, max: 5}\n  outputTokens: 1", "broken.yaml:5: workload.promptTokens.max is 5; expected an integer >= 10.")]
    [InlineData("workload:\n  rateRequestsPerSecond: 1\n  requests: 5\n  promptTokens: {distribution: normal, median: 1}\n  outputTokens: 1", "broken.yaml:5: workload.promptTokens.distribution is 'normal'; expected one of uniform, lognormal.")]
    [InlineData("workload:\n  rateRequestsPerSecond: 1\n  requests: 5\n  promptTokens: {fixed: 0}\n  outputTokens: 1", "broken.yaml:5: workload.promptTokens.fixed is 0; expected an integer >= 1.")]
    [InlineData("workload:\n  rateRequestsPerSecond: 1\n  requests: 5\n  promptTokens: {fixed: 4, median: 3}\n  outputTokens: 1", "broken.yaml:5: workload.promptTokens.median is 3, but workload.promptTokens.fixed is set")]
    [InlineData("workload:\n  rateRequestsPerSecond: 1\n  requests: 5\n  promptTokens: 1\n  outputTokens: {distribution: lognormal, median: 5, p90: 9, min: 1}", "broken.yaml:6: workload.outputTokens.min is 1, but workload.outputTokens is lognormal")]
    [InlineData("workload:\n  rateRequestsPerSecond: 1\n  requests: 5\n  promptTokens: many\n  outputTokens: 1", "broken.yaml:5: workload.promptTokens is 'many'; expected a token count >= 1")]
    public void Workload_mistakes_name_file_line_field_and_value(string body, string expected) =>
        AssertFails("name: x\n" + body, expected);

    [Theory]
    [InlineData("slos:\n  classes:\n    - {id: d}", "broken.yaml:4: slos.classes[0] sets no target")]
    [InlineData("slos:\n  classes:\n    - {id: d, ttftSeconds: -2}", "broken.yaml:4: slos.classes[0].ttftSeconds is -2; expected a number of seconds > 0.")]
    [InlineData("slos:\n  slowdown: patel", "broken.yaml:3: slos.slowdown is 'patel'; expected one of none, splitwise.")]
    [InlineData("slos:\n  ttftSeconds: 2", "broken.yaml:3: unknown key 'ttftSeconds' in slos; expected one of classes, slowdown.")]
    [InlineData("policies:\n  designs: [splitwise-ha, splitwize-ha]", "broken.yaml:3: policies.designs[1] is 'splitwize-ha'; expected one of baseline-a100, baseline-h100, splitwise-aa, splitwise-hh, splitwise-ha, splitwise-hhcap (did you mean 'splitwise-ha'?).")]
    [InlineData("policies:\n  routing: [petals, petals]", "broken.yaml:3: policies.routing[1] is 'petals', which the list already names")]
    [InlineData("policies:\n  split: dq", "broken.yaml:3: policies.split is 'dq'; expected one of dp, greedy")]
    [InlineData("policies:\n  placements: [petals]", "broken.yaml:3: unknown key 'placements' in policies; did you mean 'placement'?")]
    public void Objective_and_policy_mistakes_name_file_line_field_and_value(string body, string expected) =>
        AssertFails("name: x\n" + body, expected);

    [Fact]
    public void Every_message_is_one_line_ending_with_a_full_stop_or_question_mark()
    {
        var error = Assert.Throws<StrataException>(() => ScenarioLoader.Parse("name: x\nmachines:\n  - {id: p, machine: t4, count: many}", File, Catalog.BuiltIn));

        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal("scenarios/broken.yaml:3: machines[0].count is 'many'; expected an integer >= 0.", error.Message);
    }

    // Expected line numbers count the "name: x" line the callers prepend.
    private static void AssertFails(string yaml, string expected)
    {
        var error = Assert.Throws<StrataException>(() => ScenarioLoader.Parse(yaml, File, Catalog.BuiltIn));
        Assert.True(error.Message.StartsWith("scenarios/" + expected, StringComparison.OrdinalIgnoreCase), $"Expected '{expected}...' but got: {error.Message}");
        Assert.DoesNotContain('\n', error.Message);
    }
}
