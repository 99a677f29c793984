using Strata.Core.Catalogs;
using Strata.Core.Identity;
using Strata.Core.Scenarios;
using Strata.Core.Workload;
using Strata.Performance;
using Strata.Performance.Profiles;
using Strata.Planning.Pools;
using Strata.Simulation.Cluster;
using Strata.Simulation.Runs;
using Strata.Simulation.Workloads;

namespace Strata.Simulation.Tests.Cluster;

public sealed class SplitwiseSimRulesTests
{
    private static readonly Catalog Catalog = Catalog.BuiltIn;

    private static SplitwiseSimDatabaseModel BloomH100() =>
        new(new Deployment(Catalog.Model("bloom-176b"), Catalog.Machine("dgx-h100"), Core.Models.Precision.Fp16), ProfileTable.BuiltIn);

    // Medians of perf_model.csv, bloom-176b / h100-80gb / tp8, computed by hand (python statistics.median):
    // x=128: prompt 48.28443902079016 ms, token 35.739242111142055 ms; x=256: prompt 51.17948295082897, token 36.15448040398219;
    // x=512: prompt 76.14180399104953; x=16384: token 45.84156714267956; x=32768: token 63.82134215911763.
    [Fact]
    public void Database_model_interpolates_medians_and_extrapolates_below_the_smallest_batch_token_count()
    {
        var model = BloomH100();
        // A decode-only step of 10 requests: token curve at x = 10, extrapolated from x = 128 and 256.
        var expected = 35.739242111142055 + (36.15448040398219 - 35.739242111142055) / 128 * (10 - 128);
        Assert.Equal(expected / 1000, model.StepSeconds(BatchShape.Decode(10, 5000)), 12);
        Assert.Equal(expected / 1000, model.StepSeconds(BatchShape.Decode(10, 50)), 12); // context does not matter
        // Prefill of 384 tokens: halfway between x = 256 and 512.
        Assert.Equal((51.17948295082897 + 76.14180399104953) / 2 / 1000, model.StepSeconds(BatchShape.Prefill(1, 384)), 12);
        // Mixed: 380 prompt tokens + 4 decodes = x 384, times 1.1.
        Assert.Equal((51.17948295082897 + 76.14180399104953) / 2 / 1000 * 1.1, model.StepSeconds(BatchShape.Prefill(1, 380) + BatchShape.Decode(4, 100)), 12);
        // Above the largest x: the last segment extended.
        Assert.Equal((63.82134215911763 + (63.82134215911763 - 45.84156714267956) / 16384 * 16384) / 1000, model.TokenSeconds(49152), 12);
    }

    [Fact]
    public void Token_jsq_picks_the_machine_with_fewest_queued_prompt_tokens_plus_requests_in_flight()
    {
        var view = new FakeView([500, 0, 10], [0, 600, 5]);
        Assert.Equal(2, new TokenJsqScheduler().Route(new InferenceRequest(new RequestId(0), 0, 10, 10), view).PrefillMachine);
        var error = Assert.Throws<Core.StrataException>(() => new TokenJsqScheduler().Route(new InferenceRequest(new RequestId(0), 0, 10, 10), new PlainView()));
        Assert.Contains("token-jsq", error.Message);
    }

    [Fact]
    public void Fixed_rate_kv_transfer_takes_prompt_kv_bytes_over_200_gib_per_second()
    {
        var options = new SimulateOptions { Model = "bloom-176b", Design = "splitwise-hh", PromptMachines = 1, TokenMachines = 1, Workload = new WorkloadOptions { Trace = "conv" }, Cluster = new ClusterSimulationOptions { KvTransfer = KvTransferRule.FixedRate } };
        var design = ClusterDesigns.Create("splitwise-hh", Catalog, promptMachines: 1, tokenMachines: 1);
        var result = SimulationService.CreateSimulator(design, options, Catalog).Run([new InferenceRequest(new RequestId(0), 0, 1000, 3)], new SplitwiseScheduler(), SimulateOptions.MlperfSlo);
        var kvBytesPerToken = 2.0 * 70 * 14336 * 2; // K and V, 70 layers, hidden 14,336, fp16
        Assert.Equal(1000 * kvBytesPerToken / (200.0 * (1L << 30)), result.KvTransfer.P50, 9);
    }

    [Fact]
    public void Independent_lengths_break_the_prompt_output_pairing_of_trace_rows_and_are_seeded()
    {
        var paired = new WorkloadOptions { Trace = "code", Arrivals = ArrivalProcess.Poisson, RateRequestsPerSecond = 50, Requests = 4000, Seed = 3 };
        var independent = paired with { IndependentLengths = true };
        var rows = Trace.Load("code").Rows.Select(r => (r.PromptTokens, r.OutputTokens)).ToHashSet();
        var a = WorkloadBuilder.Build(independent);
        Assert.Equal(a, WorkloadBuilder.Build(independent));
        Assert.All(WorkloadBuilder.Build(paired), r => Assert.Contains((r.PromptTokens, r.OutputTokens), rows));
        // Independent draws produce pairs never recorded together (most of them: the code trace has 8,819 rows).
        Assert.True(a.Count(r => !rows.Contains((r.PromptTokens, r.OutputTokens))) > a.Length / 2);
        // Poisson: mean gap 1 / rate within 5% over 4,000 gaps.
        Assert.InRange(a[^1].ArrivalSeconds / a.Length, 0.95 / 50, 1.05 / 50);
    }

    [Fact]
    public void Compat_preset_sets_every_splitwisesim_rule_and_lists_them()
    {
        var options = SplitwiseSimCompat.Apply(new SimulateOptions { Model = "bloom-176b", Workload = new WorkloadOptions { Trace = "conv", RateRequestsPerSecond = 80, DurationSeconds = 600 } });
        Assert.True(options.SplitwiseSimDatabase);
        Assert.Equal("token-jsq", options.Routing);
        Assert.Equal(BatchingPolicy.SplitwiseMls, options.Cluster.Batching);
        Assert.Equal((2048, 512, 1.0, KvTransferRule.FixedRate), (options.Cluster.MaxBatchTokens, options.Cluster.MaxBatchRequests, options.Cluster.MemoryUtilization, options.Cluster.KvTransfer));
        Assert.Equal(ArrivalProcess.Poisson, options.Workload.Arrivals);
        Assert.True(options.Workload.IndependentLengths);
        var rules = SplitwiseSimCompat.Rules(options);
        Assert.Contains(rules, line => line.StartsWith("batching: splitwise-mls", StringComparison.Ordinal));
        Assert.Contains(rules, line => line.Contains("independently", StringComparison.Ordinal));
    }

    private class PlainView : IClusterView
    {
        public virtual int MachineCount => 1;

        public MachineRole Role(int machine) => MachineRole.Mixed;

        public virtual long PendingPromptTokens(int machine) => 0;

        public long PendingDecodeTokens(int machine) => 0;

        public double KvUtilization(int machine) => 0;
    }

    private sealed class FakeView(long[] prompts, int[] inFlight) : PlainView, IRequestCountView
    {
        public override int MachineCount => prompts.Length;

        public override long PendingPromptTokens(int machine) => prompts[machine];

        public int RequestsInFlight(int machine) => inFlight[machine];
    }
}
