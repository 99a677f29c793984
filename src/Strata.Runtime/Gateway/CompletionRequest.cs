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

    /// <summary>Temperature, top-p and seed.</summary>
    public required SamplingOptions Sampling { get; init; }

    /// <summary>Strings that end the generation; the text stops before the first one found.</summary>
    public required IReadOnlyList<string> StopSequences { get; init; }

    /// <summary>Whether to answer with server-sent events.</summary>
    public required bool Stream { get; init; }

    /// <summary>Whether this is a chat request.</summary>
    public required bool IsChat { get; init; }
}
