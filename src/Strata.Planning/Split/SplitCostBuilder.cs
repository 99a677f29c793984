using Strata.Core.Hardware;
using Strata.Core.Models;
using Strata.Performance;
using Strata.Performance.Estimation;
using Strata.Performance.Memory;
using Strata.Performance.Roofline;

namespace Strata.Planning.Split;

/// <summary>Derives a <see cref="SplitInstance"/> for a real request from per-block costs (<see cref="IBlockCostModel"/>: by default the scored model of each side, <see cref="ScoredModel.For"/>, or a measured or runtime profile).</summary>
/// <remarks>
/// <para>Every transformer block is one layer, and every cost is for the whole request: one prefill step of the
/// prompt, then <c>output - 1</c> decode steps, step k attending to <c>prompt + k</c> tokens (as
/// <see cref="Performance.Estimation.RequestEstimator"/>).</para>
/// <list type="bullet">
/// <item><c>clientSeconds</c>, <c>serverSeconds</c>: one block's time (<see cref="IBlockCostModel.BlocksSeconds"/>) summed over
/// the steps. By default each side is priced by the model the simulator and <c>strata estimate</c> use for that
/// deployment: the roofline fitted to its own Splitwise measurements where it has some, else the per-device model
/// (<see cref="Performance.Operators.DeviceModel"/>), whose blocks plus head are exactly its step time.</item>
/// <item><c>uploadSeconds</c> = <c>downloadSeconds</c>: the block's input hidden states over the link, one message per
/// step: <c>prompt</c> tokens for the prefill, 1 per decode step, each token <c>hidden_size x 2</c> bytes (4 for fp32),
/// each message paying the link latency.</item>
/// <item><c>finalDownloadSeconds</c>: the last block's output for the LM head on the client, one token per step
/// (<c>output</c> messages).</item>
/// <item><c>serverLoad</c>: server FLOPs of the block over the request (<see cref="RooflineBlockCosts.FlopsPerBlock"/>; the
/// same unit for every block, so the plan minimises the server's compute).</item>
/// <item><c>clientMemoryBytes</c>: the block's weights plus its KV cache of <c>prompt + output</c> tokens
/// (<see cref="MemoryModel"/>'s per-block numbers).</item>
/// <item>The embedding and LM head always run on the client (the request starts and ends there): their weights come off
/// the default memory budget, and the client's LM-head time over all steps comes off the SLA (floored at 0).</item>
/// </list>
/// </remarks>
public static class SplitCostBuilder
{
    /// <summary>Builds the split instance of <paramref name="request"/>.</summary>
    /// <exception cref="Core.StrataException">The request is invalid, or a device lacks a FLOP/s figure for the precision.</exception>
    public static SplitInstance Build(SplitCostRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var model = request.Model;
        var client = PerRequest(request, request.ClientDevice, request.ClientCosts);
        var server = PerRequest(request, request.ServerDevice, request.ServerCosts);

        var activationBytesPerToken = (double)model.HiddenSize * PrecisionInfo.ActivationBytes(request.Precision);
        var link = request.Link;
        var decodeSteps = request.OutputTokens - 1;
        var transferSeconds = link.TransferSeconds(request.PromptTokens * activationBytesPerToken)
            + (decodeSteps * link.TransferSeconds(activationBytesPerToken));
        var finalDownloadSeconds = request.OutputTokens * link.TransferSeconds(activationBytesPerToken);

        var memory = new MemoryModel(new Deployment(model, MachineSpec.Of(request.ClientDevice), request.Precision));
        var blockMemoryBytes = memory.WeightsBytesPerBlock + (memory.KvBytesPerTokenPerBlock * (request.PromptTokens + request.OutputTokens));
        var budgetBytes = request.ClientMemoryBudgetBytes
            ?? Math.Max(0, (request.ClientDevice.MemoryBytes * MemoryModel.DefaultMemoryUtilization) - memory.EmbeddingAndHeadBytes);

        var layer = new SplitLayer(client.BlockSeconds, server.BlockSeconds, transferSeconds, transferSeconds, server.BlockFlops, blockMemoryBytes);
        var layers = new SplitLayer[model.LayerCount];
        Array.Fill(layers, layer);
        var slaSeconds = Math.Max(0, request.SlaSeconds - client.HeadSeconds);
        return new SplitInstance(layers, slaSeconds, finalDownloadSeconds, budgetBytes);
    }

    /// <summary>The model that prices <paramref name="device"/>'s side of <paramref name="request"/> when the request gives no costs of its own.</summary>
    public static ScoredModel ScoredModelOn(SplitCostRequest request, DeviceSpec device)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(device);
        return ScoredModel.For(request.DeploymentOn(device));
    }

    /// <summary>One block's time and FLOPs, and the LM head's time, over all steps of the request on <paramref name="device"/>, timed by <paramref name="costs"/> (the device's scored model when null).</summary>
    private static (double BlockSeconds, double BlockFlops, double HeadSeconds) PerRequest(SplitCostRequest request, DeviceSpec device, IBlockCostModel? costs)
    {
        var deployment = request.DeploymentOn(device);
        costs ??= ScoredModel.For(deployment).Blocks;
        double blockSeconds = 0, blockFlops = 0, headSeconds = 0;
        void Step(in BatchShape shape)
        {
            blockSeconds += costs.BlocksSeconds(1, shape);
            blockFlops += RooflineBlockCosts.FlopsPerBlock(deployment, shape); // the server-load unit: FLOPs, whatever times the blocks
            headSeconds += costs.HeadSeconds(shape);
        }

        Step(BatchShape.Prefill(1, request.PromptTokens));
        for (var k = 1; k < request.OutputTokens; k++)
        {
            Step(BatchShape.Decode(1, request.PromptTokens + k));
        }

        return (Math.Max(0, blockSeconds), Math.Max(0, blockFlops), Math.Max(0, headSeconds));
    }
}
