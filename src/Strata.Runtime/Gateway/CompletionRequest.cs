using Strata.Runtime.Sampling;

namespace Strata.Runtime.Gateway;

/// <summary>A validated <c>/v1/completions</c> or <c>/v1/chat/completions</c> request.</summary>
internal sealed record CompletionRequest
{
    /// <summary>The backend of the requested model.</summary>
    public required ICompletionBackend Backend { get; init; }

    /// <summary>The prompt text (chat: the messages rendered by <see cref="ChatTemplate"/>).</summary>
    public required string PromptText { get; init; }

    /// <summary>Most tokens to generate.</summary>
    public required int MaxTokens { get; init; }

    /// <summary>Whether <c>max_tokens</c> (or <c>max_completion_tokens</c>) was given; when not, it shrinks to fit the model's context.</summary>
    public required bool MaxTokensGiven { get; init; }

    /// <summary>Temperature, top-p and seed (a fresh random one when the request gave none; it is reported so the call can be repeated).</summary>
    public required SamplingOptions Sampling { get; init; }

    /// <summary>Strings that end the generation; the text stops before the first one found.</summary>
    public required IReadOnlyList<string> StopSequences { get; init; }

    /// <summary>Whether to answer with server-sent events.</summary>
    public required bool Stream { get; init; }

    /// <summary>Alternatives to report with each token's log-probability; null: no log-probabilities.</summary>
    public int? TopLogprobs { get; init; }

    /// <summary>Completions: whether the prompt text is echoed before the completion.</summary>
    public bool Echo { get; init; }

    /// <summary>Streams: whether a last chunk carries the usage (<c>stream_options.include_usage</c>).</summary>
    public bool IncludeUsage { get; init; }

    /// <summary>Whether this is a chat request.</summary>
    public required bool IsChat { get; init; }
}
