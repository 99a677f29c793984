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

    /// <summary>Generations running at once; a request beyond it waits in the queue. Default 8; range at least 1.</summary>
    public int MaxConcurrentRequests { get; init; } = 8;

    /// <summary>Requests waiting for a free generation slot (first come, first served); a request that finds the queue full gets 429 with a <c>Retry-After</c>. Default 256; range at least 0 (0: no queue).</summary>
    public int MaxQueuedRequests { get; init; } = 256;

    /// <summary>The key clients must send as <c>Authorization: Bearer KEY</c> on <c>/v1/*</c> (else 401); null (the default) lets everyone in. <c>/health</c> and <c>/metrics</c> stay open.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Wall time a request may take from admission to its last token: past it a response is 504, a stream ends with an error event. Default 5 minutes; range positive.</summary>
    public TimeSpan RequestDeadline { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Where the gateway logs (one access-log line per request, unexpected failures, start and stop); null logs nowhere.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// TLS of the gateway's endpoints (HTTP/1.1 and HTTP/2 negotiated by ALPN): served when it has a certificate, mutual
    /// when it has client authorities; null (the default): cleartext.
    /// </summary>
    public Security.TlsOptions? Tls { get; init; }

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

        if (MaxQueuedRequests < 0)
        {
            throw new StrataException($"Gateway MaxQueuedRequests is {MaxQueuedRequests}; expected at least 0.");
        }

        if (ApiKey is { } key && (key.Length == 0 || key.Any(char.IsWhiteSpace)))
        {
            throw new StrataException("Gateway ApiKey is empty or holds whitespace; give a non-empty key without spaces, or none.");
        }

        if (RequestDeadline <= TimeSpan.Zero)
        {
            throw new StrataException($"Gateway RequestDeadline is {RequestDeadline}; expected a positive time such as 00:05:00.");
        }

        Tls?.Validate();
        return this;
    }
}
