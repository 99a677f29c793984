using Strata.Performance;
using Strata.Core;
using Strata.Core.Hardware;
using Strata.Core.Models;
using Strata.Core.Network;
using Strata.Performance.Estimation;

namespace Strata.Planning.Split;

/// <summary>One request type to split: model, client and server devices, the link between them, token counts and SLA.</summary>
/// <remarks>The input of <see cref="SplitCostBuilder"/>; call <see cref="Validate"/> (the builder does) before use.</remarks>
public sealed record SplitCostRequest
{
    /// <summary>The model; every transformer block is one split layer.</summary>
    public required ModelArchitecture Model { get; init; }

    /// <summary>The client device (one device, no tensor parallelism).</summary>
    public required DeviceSpec ClientDevice { get; init; }

    /// <summary>The server device (one device; the per-block costs are for one request alone on it).</summary>
    public required DeviceSpec ServerDevice { get; init; }

    /// <summary>The client-server link, the same in both directions.</summary>
    public required LinkSpec Link { get; init; }

    /// <summary>Prompt length in tokens, >= 1.</summary>
    public required int PromptTokens { get; init; }

    /// <summary>Output length in tokens, >= 1 (the first comes from the prefill step).</summary>
    public required int OutputTokens { get; init; }

    /// <summary>End-to-end latency SLA of the whole request, in seconds, > 0.</summary>
    public required double SlaSeconds { get; init; }

    /// <summary>Client memory the blocks may take; <see langword="null"/>: 90% of the client's memory less its embedding and LM head.</summary>
    public double? ClientMemoryBudgetBytes { get; init; }

    /// <summary>Weight precision on both sides (default fp16); activations and KV cache are 16-bit unless fp32.</summary>
    public Precision Precision { get; init; } = Precision.Fp16;

    /// <summary>Per-block times of the client's device (a measured or runtime profile); null: the scored model of the model on the client device (<see cref="ScoredModel.For"/>, what the simulator uses).</summary>
    public IBlockCostModel? ClientCosts { get; init; }

    /// <summary>Per-block times of the server's device; null: the scored model of the model on the server device (<see cref="ScoredModel.For"/>).</summary>
    public IBlockCostModel? ServerCosts { get; init; }

    /// <summary>The deployment of the model on one <paramref name="device"/> at the request's precision (what each side's costs price).</summary>
    public Deployment DeploymentOn(DeviceSpec device) => new(Model, MachineSpec.Of(device), Precision);

    /// <summary>Checks every field is in range.</summary>
    /// <exception cref="StrataException">A field is out of range; the message names it and its value.</exception>
    public SplitCostRequest Validate()
    {
        ArgumentNullException.ThrowIfNull(Model);
        ArgumentNullException.ThrowIfNull(ClientDevice);
        ArgumentNullException.ThrowIfNull(ServerDevice);
        ArgumentNullException.ThrowIfNull(Link);
        Model.Validate();
        Link.Validate("Split link");
        if (PromptTokens < 1)
        {
            throw new StrataException($"Split request: prompt tokens is {PromptTokens}; expected a positive integer.");
        }

        if (OutputTokens < 1)
        {
            throw new StrataException($"Split request: output tokens is {OutputTokens}; expected a positive integer.");
        }

        if (!double.IsFinite(SlaSeconds) || SlaSeconds <= 0)
        {
            throw new StrataException($"Split request: the SLA is {SlaSeconds} s; expected a finite number of seconds > 0.");
        }

        if (ClientMemoryBudgetBytes is { } budget && (!double.IsFinite(budget) || budget < 0))
        {
            throw new StrataException($"Split request: the client memory budget is {budget} bytes; expected a finite number >= 0.");
        }

        return this;
    }
}
