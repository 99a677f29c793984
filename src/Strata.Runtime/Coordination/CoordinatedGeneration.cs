using Strata.Core.Placement;
using Strata.Runtime.Engine;
using Strata.Runtime.Tokenization;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Coordination;

/// <summary>The path of <c>strata generate --coordinator</c>: load the client's part of a model, route through the swarm, detokenize.</summary>
public static class CoordinatedGeneration
{
    /// <summary>Generates from <paramref name="prompt"/> through the swarm the coordinator at <paramref name="coordinatorUrl"/> knows; stops at the model's EOS tokens.</summary>
    /// <param name="coordinatorUrl">The coordinator.</param>
    /// <param name="modelDirectory">The model folder (the client reads the embedding, the head, and its own blocks from it).</param>
    /// <param name="prompt">Prompt text.</param>
    /// <param name="options">Tokens and sampling.</param>
    /// <param name="chainOptions">Phase split and failover; <see cref="CoordinatedChainOptions.ClientBlocks"/> is set from <paramref name="split"/> when that is given.</param>
    /// <param name="split">Plan the client's blocks with the SplitLLM DP (null: the client runs no block).</param>
    /// <param name="cancellationToken">Cancels the generation.</param>
    public static async Task<CoordinatedGenerationResult> RunAsync(
        Uri coordinatorUrl, string modelDirectory, string prompt, GenerationOptions options, CoordinatedChainOptions? chainOptions = null,
        SplitPathOptions? split = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(coordinatorUrl);
        using var coordinator = new CoordinatorClient(coordinatorUrl);
        return await RunAsync(coordinator, modelDirectory, prompt, options, chainOptions, split, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Generates from <paramref name="prompt"/> through the swarm behind <paramref name="coordinator"/> (one coordinator or several that fail over); stops at the model's EOS tokens.</summary>
    /// <param name="coordinator">The coordinators' client.</param>
    /// <param name="modelDirectory">The model folder (the client reads the embedding, the head, and its own blocks from it).</param>
    /// <param name="prompt">Prompt text.</param>
    /// <param name="options">Tokens and sampling.</param>
    /// <param name="chainOptions">Phase split and failover; <see cref="CoordinatedChainOptions.ClientBlocks"/> is set from <paramref name="split"/> when that is given.</param>
    /// <param name="split">Plan the client's blocks with the SplitLLM DP (null: the client runs no block).</param>
    /// <param name="cancellationToken">Cancels the generation.</param>
    public static async Task<CoordinatedGenerationResult> RunAsync(
        CoordinatorClient coordinator, string modelDirectory, string prompt, GenerationOptions options, CoordinatedChainOptions? chainOptions = null,
        SplitPathOptions? split = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(coordinator);
        ArgumentNullException.ThrowIfNull(options);
        chainOptions ??= new CoordinatedChainOptions();
        var config = ModelFolder.LoadConfig(modelDirectory);
        var tokenizer = TokenizerLoader.Load(modelDirectory, config);
        var promptTokens = tokenizer.Encode(prompt);
        LlamaModel model;
        if (split is not null)
        {
            model = new LlamaModel(config, LlamaWeightsLoader.Load(modelDirectory, config, 0, config.LayerCount));
            var blocks = await SplitPathPlanner.PlanAsync(model, coordinator, promptTokens.Count, options.MaxNewTokens, split, cancellationToken).ConfigureAwait(false);
            chainOptions = chainOptions with { ClientBlocks = blocks };
        }
        else
        {
            model = new LlamaModel(config, LlamaWeightsLoader.Load(modelDirectory, config, 0, 0));
        }

        // The activation envelope is recorded from the model itself, one block at a time, unless the caller chose one.
        chainOptions = chainOptions with { Envelope = chainOptions.Envelope ?? Verification.ActivationEnvelope.ProfileFolder(modelDirectory, model) };
        using var chain = new CoordinatedBlockChain(coordinator, model, chainOptions);
        var generator = new TextGenerator(model, chain);

        // One untimed token first, in its own session, so TTFT measures the swarm and not the JIT or the first connections.
        await generator.GenerateAsync([0], new GenerationOptions { MaxNewTokens = 1 }, cancellationToken).ConfigureAwait(false);
        var (warmFailovers, warmMoves) = (chain.Failovers, chain.KvMoves);
        var decisions = Enum.GetValues<Planning.Live.PhaseDecision>();
        var warmPlans = decisions.Select(chain.PhasePlans).ToArray();
        var result = await generator.GenerateAsync(promptTokens, options with { StopTokenIds = [.. options.StopTokenIds, .. model.Config.EosTokenIds] }, cancellationToken)
            .ConfigureAwait(false);
        IReadOnlyList<BlockRange> client = chainOptions.ClientBlocks is { Count: > 0 } c ? [c] : [];
        var plans = decisions.Select((d, i) => (Decision: d, Count: chain.PhasePlans(d) - warmPlans[i])).Where(p => p.Count > 0).ToDictionary(p => p.Decision, p => p.Count);
        return new CoordinatedGenerationResult(
            result, tokenizer.Decode(result.Tokens), tokenizer.Name, chain.Failovers - warmFailovers, client, chain.KvMoves - warmMoves, plans);
    }
}
