using Strata.Core;
using Strata.Core.Catalogs;
using Strata.Core.Hardware;
using Strata.Core.Models;
using Strata.Core.Network;
using Strata.Performance;
using Strata.Performance.Memory;
using Strata.Performance.Roofline;
using Strata.Planning.Split;

namespace Strata.Planning.Tests.Split;

public sealed class SplitCostBuilderTests
{
    // 5G-like link: 20 ms one way, 100 Mbit/s.
    private static readonly LinkSpec FiveG = new(0.02, 12.5e6, "5g");

    [Fact]
    public void Every_block_gets_the_same_costs_and_transfers_pay_latency_per_message()
    {
        var request = Request("llama-2-7b", promptTokens: 100, outputTokens: 10, slaSeconds: 1000);

        var instance = SplitCostBuilder.Build(request);

        Assert.Equal(32, instance.LayerCount);
        Assert.All(instance.Layers, layer => Assert.Equal(instance.Layers[0], layer));
        var tokenBytes = 4096 * 2.0;
        var transferSeconds = FiveG.TransferSeconds(100 * tokenBytes) + (9 * FiveG.TransferSeconds(tokenBytes));
        Assert.Equal(transferSeconds, instance.Layers[0].UploadSeconds, 12);
        Assert.Equal(transferSeconds, instance.Layers[0].DownloadSeconds, 12);
        Assert.Equal(10 * FiveG.TransferSeconds(tokenBytes), instance.FinalDownloadSeconds, 12);
    }

    [Fact]
    public void Block_times_and_the_client_lm_head_add_up_to_the_full_model_without_overheads()
    {
        var request = Request("llama-2-7b", promptTokens: 64, outputTokens: 8, slaSeconds: 1000);
        var client = new RooflineModel(new Deployment(request.Model, MachineSpec.Of(request.ClientDevice), Precision.Fp16), RooflineCalibration.Default);
        var server = new RooflineModel(new Deployment(request.Model, MachineSpec.Of(request.ServerDevice), Precision.Fp16), RooflineCalibration.Default);
        double clientSeconds = 0, serverFlops = 0;
        foreach (var shape in Steps(64, 8))
        {
            var cost = client.Cost(shape);
            clientSeconds += cost.TotalSeconds - cost.OverheadSeconds;
            serverFlops += server.Cost(shape).Flops;
        }

        var instance = SplitCostBuilder.Build(request);

        var headSeconds = request.SlaSeconds - instance.SlaSeconds;
        Assert.True(headSeconds > 0);
        Assert.Equal(clientSeconds, (32 * instance.Layers[0].ClientSeconds) + headSeconds, 9);
        var headFlops = 8 * 2.0 * 32000 * 4096;
        Assert.Equal(serverFlops, (32 * instance.Layers[0].ServerLoad) + headFlops, serverFlops * 1e-12);
        Assert.True(instance.Layers[0].ServerSeconds < instance.Layers[0].ClientSeconds, "An A100 should be faster than a phone.");
    }

    [Fact]
    public void Block_memory_is_weights_plus_kv_of_every_token_and_the_default_budget_leaves_room_for_embedding_and_head()
    {
        var request = Request("llama-2-7b", promptTokens: 100, outputTokens: 28, slaSeconds: 1000);
        var memory = new MemoryModel(new Deployment(request.Model, MachineSpec.Of(request.ClientDevice), Precision.Fp16));

        var instance = SplitCostBuilder.Build(request);

        Assert.Equal(memory.WeightsBytesPerBlock + (memory.KvBytesPerTokenPerBlock * 128), instance.Layers[0].ClientMemoryBytes);
        Assert.Equal((request.ClientDevice.MemoryBytes * 0.9) - memory.EmbeddingAndHeadBytes, instance.ClientMemoryBudgetBytes);
        Assert.Equal(1e9, SplitCostBuilder.Build(request with { ClientMemoryBudgetBytes = 1e9 }).ClientMemoryBudgetBytes);
    }

    [Fact]
    public void A_looser_sla_moves_blocks_to_the_phone_and_never_raises_the_server_load()
    {
        var dp = new ParetoDpSplitPlanner();
        var previousLoad = double.PositiveInfinity;
        var clientLayersSeen = new SortedSet<int>();
        foreach (var slaSeconds in new[] { 2.0, 2.5, 3, 4, 6, 8, 12, 20 })
        {
            // A roomy budget so that the SLA, not memory, decides the split.
            var request = Request("llama-2-7b", promptTokens: 128, outputTokens: 32, slaSeconds: slaSeconds) with { ClientMemoryBudgetBytes = 64e9 };
            var plan = dp.Plan(SplitCostBuilder.Build(request));
            if (plan.Feasible)
            {
                Assert.True(plan.ServerLoad <= previousLoad);
                previousLoad = plan.ServerLoad;
            }

            clientLayersSeen.Add(plan.ClientLayerCount);
        }

        Assert.True(clientLayersSeen.Count >= 3, $"Expected the split to move with the SLA; client layer counts seen: {string.Join(", ", clientLayersSeen)}.");
    }

    [Fact]
    public void An_invalid_request_is_a_user_error_naming_the_field()
    {
        var error = Assert.Throws<StrataException>(() => SplitCostBuilder.Build(Request("llama-2-7b", promptTokens: 0, outputTokens: 8, slaSeconds: 1)));
        Assert.Contains("prompt tokens is 0", error.Message, StringComparison.Ordinal);

        error = Assert.Throws<StrataException>(() => SplitCostBuilder.Build(Request("llama-2-7b", promptTokens: 8, outputTokens: 8, slaSeconds: -1)));
        Assert.Contains("SLA is -1", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Llama-2-70B (80 blocks, int4) split between a Jetson AGX Orin and an H100, for timing the DP on a real-sized model.</summary>
    internal static SplitInstance Llama70bOnJetson(double slaSeconds) => SplitCostBuilder.Build(new SplitCostRequest
    {
        Model = Catalog.BuiltIn.Model("llama-2-70b"),
        ClientDevice = Catalog.BuiltIn.Device("jetson-agx-orin-64gb"),
        ServerDevice = Catalog.BuiltIn.Device("h100-80gb"),
        Link = FiveG,
        PromptTokens = 256,
        OutputTokens = 64,
        SlaSeconds = slaSeconds,
        Precision = Precision.Int4,
    });

    private static SplitCostRequest Request(string model, int promptTokens, int outputTokens, double slaSeconds) => new()
    {
        Model = Catalog.BuiltIn.Model(model),
        ClientDevice = Catalog.BuiltIn.Device("snapdragon-8-gen-3"),
        ServerDevice = Catalog.BuiltIn.Device("a100-80gb"),
        Link = FiveG,
        PromptTokens = promptTokens,
        OutputTokens = outputTokens,
        SlaSeconds = slaSeconds,
    };

    private static IEnumerable<BatchShape> Steps(int promptTokens, int outputTokens)
    {
        yield return BatchShape.Prefill(1, promptTokens);
        for (var k = 1; k < outputTokens; k++)
        {
            yield return BatchShape.Decode(1, promptTokens + k);
        }
    }
}
