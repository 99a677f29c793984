using Strata.Runtime.Engine;
using Strata.Runtime.Tokenization;

namespace Strata.Runtime.Gateway;

/// <summary>What the gateway needs from the cluster for one model: its id, its tokenizer, and streamed generation of token ids.</summary>
public interface ICompletionBackend
{
    /// <summary>The model id clients name in <c>model</c> and <c>/v1/models</c> lists.</summary>
    string ModelId { get; }

    /// <summary>Turns prompts into token ids and generated ids back into text.</summary>
    ITextTokenizer Tokenizer { get; }

    /// <summary>The model's end-of-sequence tokens: generation stops at any of them and it is left out of the text (empty: none).</summary>
    IReadOnlyList<int> EndOfSequenceTokenIds { get; }

    /// <summary>Longest prompt plus completion the model takes, in tokens (<c>max_position_embeddings</c>); 0 when unknown (not checked).</summary>
    int ContextLengthTokens { get; }

    /// <summary>Generates after <paramref name="promptTokens"/>, yielding each token as soon as it is sampled (with its log-probabilities when <see cref="GenerationOptions.TopLogprobs"/> asks for them).</summary>
    /// <remarks>Stopping the enumeration early (or cancelling) ends the generation and frees what it held along the chain.</remarks>
    /// <param name="promptTokens">The prompt's token ids (at least one).</param>
    /// <param name="options">How many tokens, how to sample them, and how many log-probability alternatives to report.</param>
    /// <param name="cancellationToken">Ends the generation (client gone, deadline hit).</param>
    IAsyncEnumerable<GeneratedToken> GenerateAsync(IReadOnlyList<int> promptTokens, GenerationOptions options, CancellationToken cancellationToken);
}
