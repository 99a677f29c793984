using Strata.Core.Catalogs;
using Strata.Core.Identity;
using Strata.Core.Workload;
using Strata.Performance;
using Strata.Planning.Pools;
using Strata.Simulation.Cluster;

namespace Strata.Simulation.Tests.Cluster;

/// <summary>Hand-computed two-request schedules of each batching policy on one machine with a step cost of a + b x tokens.</summary>
public sealed class BatchingPolicyTests
{
    // Step = 10 ms + 1 ms per token (prompt tokens + one per decode): easy to add up by hand.
    private sealed class LinearModel(Deployment deployment) : IPerformanceModel
    {
        public string Name => "linear";

        public Deployment Deployment { get; } = deployment;

        public double StepSeconds(in BatchShape batch) => batch.IsEmpty ? 0 : 0.010 + 0.001 * batch.Tokens;
    }

    private static SimulationResult Run(BatchingPolicy policy, int tokenBudget, params InferenceRequest[] requests)
    {
        var catalog = Catalog.BuiltIn;
        var design = new ClusterDesign("one", [new MachinePool(catalog.Machine("dgx-a100"), 1, MachineRole.Mixed, 25e9)], "shortest-queue");
        var simulator = new ClusterSimulator(design, catalog.Model("llama-2-70b"), d => new LinearModel(d), new LinearModel(new Deployment(catalog.Model("llama-2-70b"), catalog.Machine("dgx-a100"), Core.Models.Precision.Fp16)),
            new ClusterSimulationOptions { Batching = policy, MaxBatchTokens = tokenBudget, KeepRequestOutcomes = true, KeepIterations = true });
        return simulator.Run(requests, new ShortestQueueScheduler(), new ServiceLevelObjective(TtftSeconds: 10, TbtSeconds: 1));
    }

    private static InferenceRequest Request(int id, double arrival, int prompt, int output) => new(new RequestId(id), arrival, prompt, output);

    // Request A: 100-token prompt, 3 outputs, at 0. Request B: 50-token prompt, 2 outputs, at 0.005 s (during A's prefill).
    private static readonly InferenceRequest[] TwoRequests = [Request(0, 0, 100, 3), Request(1, 0.005, 50, 2)];

    [Fact]
    public void Mixed_runs_every_decode_and_adds_the_waiting_prompt_to_the_same_step()
    {
        var r = Run(BatchingPolicy.Mixed, 2048, TwoRequests);
        // Steps: [A prefill 100] 0-0.110; [A decode + B prefill 50] 0.110-0.171; [A decode, B decode] 0.171-0.183.
        var steps = r.IterationRecords!;
        Assert.Equal([(0.0, 100L, 0), (0.110, 50L, 1), (0.171, 0L, 2)], steps.Select(s => (Math.Round(s.StartSeconds, 9), s.PromptTokens, s.Decodes)));
        Assert.Equal(0.183, r.Outcomes![0].E2eSeconds, 9);
        Assert.Equal(0.171 - 0.005, r.Outcomes[1].TtftSeconds, 9);
        Assert.Equal(0.183 - 0.005, r.Outcomes[1].E2eSeconds, 9);
    }

    [Fact]
    public void Prefill_first_runs_the_waiting_prompt_alone_while_decodes_wait()
    {
        var r = Run(BatchingPolicy.PrefillFirst, 2048, TwoRequests);
        // [A 100] 0-0.110; [B 50] 0.110-0.170; [A, B decode] 0.170-0.182; [A decode] 0.182-0.193.
        var steps = r.IterationRecords!;
        Assert.Equal([(0.0, 100L, 0), (0.110, 50L, 0), (0.170, 0L, 2), (0.182, 0L, 1)], steps.Select(s => (Math.Round(s.StartSeconds, 9), s.PromptTokens, s.Decodes)));
        Assert.Equal(0.193, r.Outcomes![0].E2eSeconds, 9);
        Assert.Equal(0.170 - 0.005, r.Outcomes[1].TtftSeconds, 9);
    }

    [Fact]
    public void Chunked_fills_the_budget_with_prompt_chunks_after_the_decodes()
    {
        // Budget 60: [A 60] 0-0.070; [A 40 + B 20] 0.070-0.140 (A's prefill done: token 1);
        // [A decode + B 30] 0.140-0.181 (B's prefill done); [A, B decode] 0.181-0.193.
        var r = Run(BatchingPolicy.Chunked, 60, TwoRequests);
        var steps = r.IterationRecords!;
        Assert.Equal([(0.0, 60L, 0), (0.070, 60L, 0), (0.140, 30L, 1), (0.181, 0L, 2)], steps.Select(s => (Math.Round(s.StartSeconds, 9), s.PromptTokens, s.Decodes)));
        Assert.Equal(0.140, r.Outcomes![0].TtftSeconds, 9);
        Assert.Equal(0.193, r.Outcomes[0].E2eSeconds, 9);
        Assert.Equal(0.181 - 0.005, r.Outcomes[1].TtftSeconds, 9);
    }

    [Fact]
    public void Splitwise_mls_puts_prompts_first_and_decodes_that_overflow_the_budget_sit_out()
    {
        // Budget 50: [A 100] alone (first always fits) 0-0.110; [B 50] fills the budget, A's decode sits out 0.110-0.170;
        // [A, B decode] 0.170-0.182; [A decode] 0.182-0.193.
        var r = Run(BatchingPolicy.SplitwiseMls, 50, TwoRequests);
        var steps = r.IterationRecords!;
        Assert.Equal([(0.0, 100L, 0), (0.110, 50L, 0), (0.170, 0L, 2), (0.182, 0L, 1)], steps.Select(s => (Math.Round(s.StartSeconds, 9), s.PromptTokens, s.Decodes)));
        // With room (budget 2048) A's decode joins B's prompt: [B 50 + A decode] 0.110-0.171.
        var roomy = Run(BatchingPolicy.SplitwiseMls, 2048, TwoRequests);
        Assert.Equal((0.110, 50L, 1), (Math.Round(roomy.IterationRecords![1].StartSeconds, 9), roomy.IterationRecords[1].PromptTokens, roomy.IterationRecords[1].Decodes));
    }
}
