using Strata.Core;
using Strata.Runtime.Sampling;

namespace Strata.Runtime.Engine;

/// <summary>Autoregressive generation: embed, run the chain, apply the head, sample, repeat with the KV caches.</summary>
/// <remarks>The embedding and the head run in this process (<paramref name="model"/>); the blocks run wherever the chain says.</remarks>
/// <param name="model">The model holding the embedding, final norm and LM head.</param>
/// <param name="chain">Runs the blocks.</param>
/// <param name="timeProvider">Clock for TTFT and TPOT (the system clock by default).</param>
public sealed class TextGenerator(LlamaModel model, IBlockChain chain, TimeProvider? timeProvider = null)
{
    private readonly LlamaModel _model = model ?? throw new ArgumentNullException(nameof(model));
    private readonly IBlockChain _chain = chain ?? throw new ArgumentNullException(nameof(chain));
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <summary>Generates up to <see cref="GenerationOptions.MaxNewTokens"/> tokens after <paramref name="prompt"/>.</summary>
    /// <exception cref="StrataException">The prompt is empty or the options are out of range.</exception>
    public Task<GenerationResult> GenerateAsync(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken cancellationToken = default) =>
        GenerateAsync(prompt, options, onToken: null, cancellationToken);

    /// <summary>Generates like <see cref="GenerateAsync(IReadOnlyList{int}, GenerationOptions, CancellationToken)"/>, handing each token to <paramref name="onToken"/> as soon as it is sampled.</summary>
    /// <param name="prompt">The prompt's token ids.</param>
    /// <param name="options">How many tokens and how to sample them.</param>
    /// <param name="onToken">Called with each generated token id, in order, before the next step runs (null: no callback).</param>
    /// <param name="cancellationToken">Cancels the generation.</param>
    /// <exception cref="StrataException">The prompt is empty or the options are out of range.</exception>
    public Task<GenerationResult> GenerateAsync(
        IReadOnlyList<int> prompt, GenerationOptions options, Func<int, CancellationToken, ValueTask>? onToken, CancellationToken cancellationToken = default) =>
        GenerateWithLogprobsAsync(prompt, options, onToken is null ? null : (token, ct) => onToken(token.TokenId, ct), cancellationToken);

    /// <summary>Generates like <see cref="GenerateAsync(IReadOnlyList{int}, GenerationOptions, CancellationToken)"/>, handing each token (with its log-probabilities when <see cref="GenerationOptions.TopLogprobs"/> asks for them) to <paramref name="onToken"/> as soon as it is sampled.</summary>
    /// <param name="prompt">The prompt's token ids.</param>
    /// <param name="options">How many tokens, how to sample them, and how many alternatives to report.</param>
    /// <param name="onToken">Called with each generated token, in order, before the next step runs (null: no callback).</param>
    /// <param name="cancellationToken">Cancels the generation.</param>
    /// <exception cref="StrataException">The prompt is empty or the options are out of range.</exception>
    public async Task<GenerationResult> GenerateWithLogprobsAsync(
        IReadOnlyList<int> prompt, GenerationOptions options, Func<GeneratedToken, CancellationToken, ValueTask>? onToken, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (prompt.Count == 0)
        {
            throw new StrataException("The prompt is empty; give at least one token of text.");
        }

        var sampler = new TokenSampler(options.Sampling);
        var tokens = new List<int>(options.MaxNewTokens);
        var started = _time.GetTimestamp();
        double ttftSeconds;
        var session = _chain.OpenSession(prompt.Count + options.MaxNewTokens);
        try
        {
            var hidden = _model.Embed([.. prompt]); // (promptTokens, hidden)
            await session.ForwardAsync(hidden, prompt.Count, cancellationToken).ConfigureAwait(false);
            var logits = _model.ComputeLastLogits(hidden, prompt.Count); // (vocab)
            var next = sampler.Sample(logits);
            tokens.Add(next);
            ttftSeconds = _time.GetElapsedTime(started).TotalSeconds;
            if (onToken is not null)
            {
                await onToken(Token(logits, next, options), cancellationToken).ConfigureAwait(false);
            }

            while (tokens.Count < options.MaxNewTokens && !options.StopTokenIds.Contains(next))
            {
                hidden = _model.Embed([next]); // (1, hidden)
                await session.ForwardAsync(hidden, 1, cancellationToken).ConfigureAwait(false);
                logits = _model.ComputeLastLogits(hidden, 1);
                next = sampler.Sample(logits);
                tokens.Add(next);
                if (onToken is not null)
                {
                    await onToken(Token(logits, next, options), cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            // A remote session closes its server-side state over the network: awaited, never blocking a thread.
            if (session is IAsyncDisposable asyncSession)
            {
                await asyncSession.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                session.Dispose();
            }
        }

        var totalSeconds = _time.GetElapsedTime(started).TotalSeconds;
        return new GenerationResult
        {
            PromptTokens = [.. prompt],
            Tokens = tokens,
            TtftSeconds = ttftSeconds,
            TpotSeconds = tokens.Count > 1 ? (totalSeconds - ttftSeconds) / (tokens.Count - 1) : 0,
            TotalSeconds = totalSeconds,
            Route = _chain.Route,
        };
    }

    // The log-probabilities come from the very logits the sampler chose from.
    private static GeneratedToken Token(float[] logits, int tokenId, GenerationOptions options) =>
        new(tokenId, options.TopLogprobs is { } top ? TokenLogprobs.Compute(logits, tokenId, top) : null);
}
