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

    /// <summary>Generates after <paramref name="promptTokens"/>, yielding each token id as soon as it is sampled.</summary>
    /// <remarks>Stopping the enumeration early (or cancelling) ends the generation and frees what it held along the chain.</remarks>
    /// <param name="promptTokens">The prompt's token ids (at least one).</param>
    /// <param name="options">How many tokens and how to sample them.</param>
    /// <param name="cancellationToken">Ends the generation (client gone, deadline hit).</param>
    IAsyncEnumerable<int> GenerateAsync(IReadOnlyList<int> promptTokens, GenerationOptions options, CancellationToken cancellationToken);
}
