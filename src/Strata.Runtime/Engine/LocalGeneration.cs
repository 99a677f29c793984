using Strata.Runtime.Tokenization;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Engine;

/// <summary>The reference path of <c>strata generate --local</c>: load a model folder, tokenize, generate in-process, detokenize.</summary>
public static class LocalGeneration
{
    /// <summary>Generates from <paramref name="prompt"/> with the model in <paramref name="modelDirectory"/>; stops at the model's EOS tokens.</summary>
    public static async Task<LocalGenerationResult> RunAsync(string modelDirectory, string prompt, GenerationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var model = ModelFolder.LoadModel(modelDirectory);
        var tokenizer = TokenizerLoader.Load(modelDirectory, model.Config);
        var generator = new TextGenerator(model, new LocalBlockChain(model));

        // One untimed token first, in its own session, so TTFT measures the model and not the JIT.
        await generator.GenerateAsync([0], new GenerationOptions { MaxNewTokens = 1 }, cancellationToken).ConfigureAwait(false);
        var result = await generator.GenerateAsync(tokenizer.Encode(prompt), options with { StopTokenIds = [.. options.StopTokenIds, .. model.Config.EosTokenIds] }, cancellationToken)
            .ConfigureAwait(false);
        return new LocalGenerationResult(result, tokenizer.Decode(result.Tokens), tokenizer.Name, model.Config.Architecture.TotalParameters);
    }
}
