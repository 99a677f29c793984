using Strata.Runtime.Tokenization;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Engine;

/// <summary>The reference path of <c>strata generate --local</c>: load a model folder, tokenize, generate in-process, detokenize.</summary>
public static class LocalGeneration
{
    /// <summary>Generates from <paramref name="prompt"/> with the model in <paramref name="modelDirectory"/>; stops at the model's EOS tokens.</summary>
    public static Task<LocalGenerationResult> RunAsync(string modelDirectory, string prompt, GenerationOptions options, CancellationToken cancellationToken = default) =>
        RunAsync(modelDirectory, prompt, options, TimeProvider.System, cancellationToken);

    /// <summary>As <see cref="RunAsync(string, string, GenerationOptions, CancellationToken)"/>, timing the load with <paramref name="time"/>.</summary>
    public static async Task<LocalGenerationResult> RunAsync(string modelDirectory, string prompt, GenerationOptions options, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(options);
        var loadStart = time.GetTimestamp();
        var model = ModelFolder.LoadModel(modelDirectory);
        var loadSeconds = time.GetElapsedTime(loadStart).TotalSeconds;
        var tokenizer = TokenizerLoader.Load(modelDirectory, model.Config);
        var generator = new TextGenerator(model, new LocalBlockChain(model));

        // One untimed token first, in its own session, so TTFT measures the model and not the JIT.
        await generator.GenerateAsync([0], new GenerationOptions { MaxNewTokens = 1 }, cancellationToken).ConfigureAwait(false);
        var result = await generator.GenerateAsync(tokenizer.Encode(prompt), options with { StopTokenIds = [.. options.StopTokenIds, .. model.Config.EosTokenIds] }, cancellationToken)
            .ConfigureAwait(false);
        return new LocalGenerationResult(result, tokenizer.Decode(result.Tokens), tokenizer.Name, model.Config.Architecture.TotalParameters, loadSeconds);
    }
}
