using Strata.Core;
using Strata.Core.Catalogs;
using Strata.Core.Hardware;
using Strata.Core.Models;
using Strata.Core.Network;
using Strata.Performance;
using Strata.Performance.Calibration;
using Strata.Performance.Estimation;
using Strata.Performance.Memory;
using Strata.Performance.Operators;
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
    public void Block_times_and_the_client_head_add_up_to_the_device_models_own_prediction_of_the_request()
    {
        // Closed form: llama-2-7b has no measurement on either device, so both sides are priced by the device model,
        // whose step is linear in the layer count: L blocks + head = its step for the whole model, and k blocks = the
        // step of a (j + k)-layer model less that of a j-layer one, summed over the request's steps.
        var request = Request("llama-2-7b", promptTokens: 64, outputTokens: 8, slaSeconds: 1000);
        var (client, _) = DeviceModels.For(request.DeploymentOn(request.ClientDevice));
        var (server, _) = DeviceModels.For(request.DeploymentOn(request.ServerDevice));
        var (serverSix, _) = DeviceModels.For(new Deployment(request.Model with { LayerCount = 6 }, MachineSpec.Of(request.ServerDevice), Precision.Fp16));
        var (serverOne, _) = DeviceModels.For(new Deployment(request.Model with { LayerCount = 1 }, MachineSpec.Of(request.ServerDevice), Precision.Fp16));
        double clientRequestSeconds = 0, serverFiveBlocksSeconds = 0, serverFlops = 0;
        foreach (var shape in Steps(64, 8))
        {
            clientRequestSeconds += client.StepSeconds(shape);
            serverFiveBlocksSeconds += serverSix.StepSeconds(shape) - serverOne.StepSeconds(shape);
            serverFlops += new RooflineModel(server.Deployment, RooflineCalibration.Ideal).Cost(shape).Flops;
        }

        var instance = SplitCostBuilder.Build(request);

        Assert.Equal(ScoredModel.DeviceKind, SplitCostBuilder.ScoredModelOn(request, request.ClientDevice).Kind);
        Assert.Equal(ScoredModel.DeviceKind, SplitCostBuilder.ScoredModelOn(request, request.ServerDevice).Kind);
        var headSeconds = request.SlaSeconds - instance.SlaSeconds;
        Assert.True(headSeconds > 0);
        Assert.Equal(clientRequestSeconds, (32 * instance.Layers[0].ClientSeconds) + headSeconds, clientRequestSeconds * 1e-9);
        Assert.Equal(serverFiveBlocksSeconds, 5 * instance.Layers[0].ServerSeconds, serverFiveBlocksSeconds * 1e-9);
        var headFlops = 8 * 2.0 * 32000 * 4096;
        Assert.Equal(serverFlops, (32 * instance.Layers[0].ServerLoad) + headFlops, serverFlops * 1e-12);
        Assert.True(instance.Layers[0].ServerSeconds < instance.Layers[0].ClientSeconds, "An A100 should be faster than a phone.");
    }

    [Fact]
    public void A_model_absent_from_every_table_gets_a_device_model_plan_not_default_factors()
    {
        var request = Request("mistral-7b", promptTokens: 128, outputTokens: 32, slaSeconds: 1000) with { ServerDevice = Catalog.BuiltIn.Device("l4") };
        var server = SplitCostBuilder.ScoredModelOn(request, request.ServerDevice);
        var expected = Steps(128, 32).Sum(shape => server.Blocks.BlocksSeconds(1, shape));
        var defaults = new RooflineBlockCosts(request.DeploymentOn(request.ServerDevice), RooflineCalibration.Default);
        var defaultSeconds = Steps(128, 32).Sum(shape => defaults.BlocksSeconds(1, shape));

        var instance = SplitCostBuilder.Build(request);

        Assert.Equal(ScoredModel.DeviceKind, server.Kind);
        Assert.IsType<DeviceModel>(server.Blocks);
        Assert.Equal(ValidatedErrors.OperatorsFromOtherGpu["a100"], server.ExpectedError!.Operators);
        Assert.Equal(expected, instance.Layers[0].ServerSeconds, expected * 1e-12);
        Assert.True(Math.Abs(instance.Layers[0].ServerSeconds - defaultSeconds) > 0.05 * defaultSeconds,
            $"device-model block time {instance.Layers[0].ServerSeconds} s should differ from the default factors' {defaultSeconds} s");
    }

    [Fact]
    public void Dp_matches_exhaustive_search_on_instances_priced_by_the_scored_models()
    {
        // Real costs (device model on phones, laptops, edge boxes and GPUs; the calibrated roofline nowhere at TP 1), models
        // cut to at most 24 blocks so that exhaustive search can check every plan.
        var dp = new ParetoDpSplitPlanner();
        var exhaustive = new ExhaustiveSplitPlanner();
        var random = new Random(1313);
        var models = new[] { "llama-2-7b", "mistral-7b", "qwen2-7b", "phi-3-mini", "llama-3-8b" };
        var clients = new[] { "snapdragon-8-gen-3", "laptop-core-i7-13700h", "jetson-agx-orin-64gb" };
        var servers = new[] { "a100-80gb", "h100-80gb", "l4", "a10g" };
        int feasible = 0, mixed = 0;
        const int Instances = 120;
        for (var n = 0; n < Instances; n++)
        {
            var model = Catalog.BuiltIn.Model(models[n % models.Length]);
            var layers = random.Next(4, ExhaustiveSplitPlanner.MaxLayers - 7);
            var request = new SplitCostRequest
            {
                Model = model with { LayerCount = layers },
                ClientDevice = Catalog.BuiltIn.Device(clients[n % clients.Length]),
                ServerDevice = Catalog.BuiltIn.Device(servers[(n / 3) % servers.Length]),
                Link = new LinkSpec(random.NextDouble() * 0.05, (1 + (random.NextDouble() * 99)) * 1.25e5, "random link"),
                PromptTokens = random.Next(16, 512),
                OutputTokens = random.Next(2, 48),
                SlaSeconds = 0.5 + (random.NextDouble() * 20),
                ClientMemoryBudgetBytes = random.NextDouble() * 8e9,
            };
            var instance = SplitCostBuilder.Build(request);

            var plan = dp.Plan(instance);
            var oracle = exhaustive.Plan(instance);

            var context = $"instance {n} ({model.Id} x {layers} on {request.ClientDevice.Id}/{request.ServerDevice.Id}, SLA {request.SlaSeconds:F2} s): dp {plan.AssignmentText} vs exhaustive {oracle.AssignmentText}";
            Assert.True(oracle.Feasible == plan.Feasible, $"Feasibility differs for {context}.");
            Assert.True(Math.Abs(oracle.ServerLoad - plan.ServerLoad) <= 1e-9 * Math.Max(1, oracle.ServerLoad), $"Server load differs for {context}.");
            feasible += plan.Feasible ? 1 : 0;
            mixed += plan.Feasible && plan.ClientLayerCount > 0 && plan.ClientLayerCount < layers ? 1 : 0;
        }

        Assert.InRange(feasible, Instances / 5, Instances - 1);
        Assert.True(mixed >= Instances / 10, $"Only {mixed} plans split the model between client and server.");
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
