using Strata.Core;

namespace Strata.Runtime.Gateway;

/// <summary>Limits and defaults of the OpenAI-compatible gateway.</summary>
public sealed record GatewayOptions
{
    /// <summary>Largest request body accepted (Kestrel's <c>MaxRequestBodySize</c>); larger ones get 400. Default 1 MiB; range at least 1 KiB.</summary>
    public long MaxRequestBodyBytes { get; init; } = 1 << 20;

    /// <summary>Longest prompt, in tokens after tokenization (chat: after the template); longer ones get 400. Default 4,096; range at least 1.</summary>
    public int MaxPromptTokens { get; init; } = 4096;

    /// <summary>Largest <c>max_tokens</c> a request may ask for; more gets 400. Default 1,024; range at least 1.</summary>
    public int MaxCompletionTokens { get; init; } = 1024;

    /// <summary><c>max_tokens</c> when a request gives none (OpenAI's default for completions). Default 16; range [1, <see cref="MaxCompletionTokens"/>].</summary>
    public int DefaultMaxTokens { get; init; } = 16;

    /// <summary>Generations running at once; a request beyond it gets 429 at once (no queue). Default 8; range at least 1.</summary>
    public int MaxConcurrentRequests { get; init; } = 8;

    /// <summary>Wall time a request may take from admission to its last token: past it a response is 504, a stream ends with an error event. Default 5 minutes; range positive.</summary>
    public TimeSpan RequestDeadline { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Where the gateway writes unexpected failures (one line each, with the exception); null writes nowhere.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="StrataException">A value is out of range.</exception>
    public GatewayOptions Validate()
    {
        if (MaxRequestBodyBytes < 1024)
        {
            throw new StrataException($"Gateway MaxRequestBodyBytes is {MaxRequestBodyBytes}; expected at least 1024.");
        }

        if (MaxPromptTokens < 1)
        {
            throw new StrataException($"Gateway MaxPromptTokens is {MaxPromptTokens}; expected at least 1.");
        }

        if (MaxCompletionTokens < 1)
        {
            throw new StrataException($"Gateway MaxCompletionTokens is {MaxCompletionTokens}; expected at least 1.");
        }

        if (DefaultMaxTokens < 1 || DefaultMaxTokens > MaxCompletionTokens)
        {
            throw new StrataException($"Gateway DefaultMaxTokens is {DefaultMaxTokens}; expected between 1 and MaxCompletionTokens ({MaxCompletionTokens}).");
        }

        if (MaxConcurrentRequests < 1)
        {
            throw new StrataException($"Gateway MaxConcurrentRequests is {MaxConcurrentRequests}; expected at least 1.");
        }

        if (RequestDeadline <= TimeSpan.Zero)
        {
            throw new StrataException($"Gateway RequestDeadline is {RequestDeadline}; expected a positive time such as 00:05:00.");
        }

        return this;
    }
}
