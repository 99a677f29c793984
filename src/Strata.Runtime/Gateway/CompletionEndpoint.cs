using System.Security.Cryptography;
using System.Text.Json;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Strata.Core;
using Strata.Runtime.Engine;

namespace Strata.Runtime.Gateway;

/// <summary>Serves <c>/v1/completions</c> and <c>/v1/chat/completions</c>: validation, queue and admission, deadline, generation, JSON or server-sent events.</summary>
internal sealed class CompletionEndpoint : IDisposable
{
    /// <summary>Names are snake_case like OpenAI's; nulls are written (<c>"logprobs": null</c>).</summary>
    public static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Response header that reports the sampling seed used (also in the body's <c>seed</c>).</summary>
    public const string SeedHeader = "X-Strata-Seed";

    private readonly IReadOnlyList<ICompletionBackend> _backends;
    private readonly GatewayOptions _options;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;
    private readonly Func<ulong> _newSeed;

    /// <summary>Creates the endpoint.</summary>
    /// <param name="backends">The models served.</param>
    /// <param name="options">Limits and defaults.</param>
    /// <param name="time">Clock of <c>created</c>, deadlines and timings.</param>
    /// <param name="newSeed">Draws the seed of a request that gives none (a CSPRNG by default: every such call samples differently).</param>
    public CompletionEndpoint(IReadOnlyList<ICompletionBackend> backends, GatewayOptions options, TimeProvider time, Func<ulong>? newSeed = null)
    {
        _backends = backends;
        _options = options;
        _time = time;
        _newSeed = newSeed ?? RandomSeed;
        Queue = new AdmissionQueue(options.MaxConcurrentRequests, options.MaxQueuedRequests);
        Metrics = new GatewayMetrics(Queue, () => backends.OfType<ChainCompletionBackend>().Sum(b => b.Failovers));
        _logger = (ILogger?)options.LoggerFactory?.CreateLogger<GatewayHost>() ?? NullLogger.Instance;
    }

    /// <summary>Admission: the running generations and the queue before them.</summary>
    public AdmissionQueue Queue { get; }

    /// <summary>The gateway's Prometheus metrics.</summary>
    public GatewayMetrics Metrics { get; }

    /// <summary>Generations running now.</summary>
    public int ActiveRequests => Queue.Running;

    public async Task HandleAsync(HttpContext context, bool isChat)
    {
        var aborted = context.RequestAborted;
        try
        {
            var body = await ReadBodyAsync(context.Request, aborted).ConfigureAwait(false);
            var request = CompletionRequestParser.Parse(body, isChat, _options, _backends, _newSeed);
            var promptTokens = request.Backend.Tokenizer.Encode(request.PromptText);
            request = CheckLength(request, promptTokens);
            if (!await Queue.EnterAsync(aborted).ConfigureAwait(false))
            {
                var retryAfter = Queue.RetryAfterSeconds;
                GatewayHost.Log.QueueFull(_logger, Queue.Queued, Queue.Running, retryAfter);
                context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
                throw new GatewayRequestException(
                    $"The gateway's queue is full ({_options.MaxQueuedRequests} requests waiting behind {_options.MaxConcurrentRequests} running); retry after {retryAfter} s.",
                    null, "rate_limit_exceeded", StatusCodes.Status429TooManyRequests, "requests");
            }

            var admitted = _time.GetTimestamp();
            double? serviceSeconds = null;
            try
            {
                serviceSeconds = await GenerateAsync(context, request, promptTokens, admitted).ConfigureAwait(false);
            }
            finally
            {
                Queue.Exit(serviceSeconds);
            }
        }
        catch (GatewayRequestException exception) when (!context.Response.HasStarted)
        {
            await WriteErrorAsync(context.Response, exception, aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away (waiting in the queue or mid-generation): nobody is left to answer.
        }
    }

    /// <summary>Cancels every generation in flight (the host is stopping); their clients get 503 or a stream error event.</summary>
    public void CancelAll() => _stopping.Cancel();

    public void Dispose()
    {
        Queue.Dispose();
        _stopping.Dispose();
    }

    private static ulong RandomSeed() => BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));

    // Prompt plus completion must fit the model's context (and the prompt the gateway's own limit), before the request queues.
    private CompletionRequest CheckLength(CompletionRequest request, IReadOnlyList<int> promptTokens)
    {
        var promptParam = request.IsChat ? "messages" : "prompt";
        if (promptTokens.Count == 0)
        {
            throw new GatewayRequestException($"{promptParam} tokenizes to no tokens; give some text.", promptParam, "invalid_value");
        }

        if (promptTokens.Count > _options.MaxPromptTokens)
        {
            throw new GatewayRequestException(
                $"The prompt is {promptTokens.Count} tokens; this gateway accepts at most {_options.MaxPromptTokens}. Shorten the {promptParam}.", promptParam, "context_length_exceeded");
        }

        var context = request.Backend.ContextLengthTokens;
        if (context <= 0 || promptTokens.Count + request.MaxTokens <= context)
        {
            return request;
        }

        var room = context - promptTokens.Count;
        if (!request.MaxTokensGiven && room >= 1)
        {
            return request with { MaxTokens = room }; // the default shrinks to fit, as vLLM does
        }

        throw new GatewayRequestException(
            $"This model's maximum context length is {context} tokens. However, you requested {promptTokens.Count + request.MaxTokens} tokens "
            + $"({promptTokens.Count} in the {promptParam}, {request.MaxTokens} in the completion). Please reduce the length of the {promptParam} or completion.",
            promptParam, "context_length_exceeded");
    }

    private async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > _options.MaxRequestBodyBytes)
        {
            throw TooLarge();
        }

        using var buffer = new MemoryStream();
        try
        {
            await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge();
        }

        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    private GatewayRequestException TooLarge() =>
        new($"The request body is larger than this gateway's limit of {_options.MaxRequestBodyBytes} bytes.", null, "request_too_large");

    // Returns the seconds the request held its slot when it ran to its end (null when it was cut short).
    private async Task<double?> GenerateAsync(HttpContext context, CompletionRequest request, IReadOnlyList<int> promptTokens, long admitted)
    {
        using var deadline = new CancellationTokenSource(_options.RequestDeadline, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, deadline.Token, _stopping.Token);
        var cancellationToken = linked.Token;
        var backend = request.Backend;
        var id = (request.IsChat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N");
        var created = _time.GetUtcNow().ToUnixTimeSeconds();
        var seed = request.Sampling.Seed;
        var options = new GenerationOptions
        {
            MaxNewTokens = request.MaxTokens, Sampling = request.Sampling, StopTokenIds = backend.EndOfSequenceTokenIds, TopLogprobs = request.TopLogprobs,
        };
        var decoder = new StreamingTextDecoder(backend.Tokenizer, request.StopSequences);
        var response = context.Response;
        response.Headers[SeedHeader] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var completionTokens = 0;
        var finishReason = "length";
        double? ttftSeconds = null;
        var logprobs = request.TopLogprobs is null ? null : new LogprobsTracker(backend.Tokenizer, request.IsChat);
        try
        {
            if (request.Stream)
            {
                response.ContentType = "text/event-stream";
                response.Headers.CacheControl = "no-cache";
                context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
                if (request.IsChat)
                {
                    await WriteEventAsync(response, OpenAiPayloads.ChatCompletionChunk(id, created, backend.ModelId, new { Role = "assistant", Content = "" }, null, null, seed), cancellationToken)
                        .ConfigureAwait(false);
                }
                else if (request.Echo)
                {
                    await WriteEventAsync(response, Chunk(request, id, created, request.PromptText, null, null), cancellationToken).ConfigureAwait(false);
                }
            }

            await foreach (var token in backend.GenerateAsync(promptTokens, options, cancellationToken).ConfigureAwait(false))
            {
                completionTokens++;
                ttftSeconds ??= _time.GetElapsedTime(admitted).TotalSeconds;
                if (backend.EndOfSequenceTokenIds.Contains(token.TokenId))
                {
                    finishReason = "stop";
                    break;
                }

                logprobs?.Add(token);
                var piece = decoder.Append(token.TokenId);
                if (request.Stream && piece.Length > 0)
                {
                    await WriteEventAsync(response, Chunk(request, id, created, piece, logprobs?.TakePending(), null), cancellationToken).ConfigureAwait(false);
                }

                if (decoder.StopSequenceFound)
                {
                    finishReason = "stop";
                    break;
                }
            }

            var durationSeconds = _time.GetElapsedTime(admitted).TotalSeconds;
            double? tpotSeconds = completionTokens > 1 && ttftSeconds is { } first ? (durationSeconds - first) / (completionTokens - 1) : null;
            Metrics.Generation(promptTokens.Count, completionTokens, ttftSeconds, tpotSeconds, durationSeconds);
            GatewayHost.Log.Generated(_logger, id, promptTokens.Count, completionTokens, seed, ttftSeconds ?? 0, tpotSeconds ?? 0);
            var rest = decoder.Finish(out var text);
            if (request.Stream)
            {
                var pending = logprobs?.TakePending();
                if (rest.Length > 0 || pending is not null)
                {
                    await WriteEventAsync(response, Chunk(request, id, created, rest, pending, null), cancellationToken).ConfigureAwait(false);
                }

                await WriteEventAsync(response, Chunk(request, id, created, null, null, finishReason), cancellationToken).ConfigureAwait(false);
                if (request.IncludeUsage)
                {
                    await WriteEventAsync(response, OpenAiPayloads.UsageChunk(id, created, backend.ModelId, request.IsChat, promptTokens.Count, completionTokens, seed), cancellationToken)
                        .ConfigureAwait(false);
                }

                await response.WriteAsync("data: [DONE]\n\n", cancellationToken).ConfigureAwait(false);
                await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
                return durationSeconds;
            }

            var allLogprobs = logprobs?.TakeAll();
            var payload = request.IsChat
                ? OpenAiPayloads.ChatCompletion(id, created, backend.ModelId, text, allLogprobs, finishReason, promptTokens.Count, completionTokens, seed)
                : OpenAiPayloads.Completion(id, created, backend.ModelId, request.Echo ? request.PromptText + text : text, allLogprobs, finishReason, promptTokens.Count, completionTokens, seed);
            response.ContentType = "application/json";
            await JsonSerializer.SerializeAsync(response.Body, payload, JsonOptions, cancellationToken).ConfigureAwait(false);
            return durationSeconds;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            throw; // the client left; HandleAsync drops the request
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            await FailAsync(response, id, completionTokens, new GatewayRequestException(
                $"The request ran past the gateway's deadline of {_options.RequestDeadline.TotalSeconds:0.###} s after {completionTokens} tokens; ask for fewer tokens or retry.",
                null, "deadline_exceeded", StatusCodes.Status504GatewayTimeout, "timeout")).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            await FailAsync(response, id, completionTokens, new GatewayRequestException(
                "The gateway is shutting down; retry on another gateway or later.", null, "shutting_down", StatusCodes.Status503ServiceUnavailable, "server_error"))
                .ConfigureAwait(false);
        }
        catch (Exception exception) when (IsSwarmUnavailable(exception))
        {
            // No route (the coordinator is unreachable, or no chain of live servers covers the blocks): the swarm cannot serve now.
            response.Headers.RetryAfter = Queue.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await FailAsync(response, id, completionTokens, new GatewayRequestException(
                $"The swarm cannot serve this request now after {completionTokens} tokens: {exception.Message}", null, "swarm_unavailable", StatusCodes.Status503ServiceUnavailable, "server_error"))
                .ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // A failure along the chain (a block server gone, a tensor refused): the client gets the reason, not a bare 500.
            await FailAsync(response, id, completionTokens, new GatewayRequestException(
                $"The generation failed after {completionTokens} tokens: {exception.Message}", null, "generation_failed", StatusCodes.Status500InternalServerError, "server_error"))
                .ConfigureAwait(false);
        }

        return null;
    }

    // gRPC Unavailable comes from an unreachable coordinator or its "no chain of live servers covers blocks" answer; the chain's
    // own give-up after failovers is a StrataException that says the swarm cannot serve.
    private static bool IsSwarmUnavailable(Exception exception) => exception switch
    {
        RpcException rpc => rpc.StatusCode is StatusCode.Unavailable,
        StrataException strata => strata.Message.StartsWith("The swarm cannot serve", StringComparison.Ordinal),
        _ => false,
    };

    // A stream that already sent 200 ends with an error event (and no [DONE]); otherwise the status and error object.
    private Task FailAsync(HttpResponse response, string requestId, int completionTokens, GatewayRequestException error)
    {
        GatewayHost.Log.GenerationFailed(_logger, requestId, completionTokens, error.StatusCode, error.Code, error.Message);
        return response.HasStarted
            ? WriteEventAsync(response, ErrorPayload(error), CancellationToken.None)
            : WriteErrorAsync(response, error, CancellationToken.None);
    }

    private static object Chunk(CompletionRequest request, string id, long created, string? text, object? logprobs, string? finishReason) =>
        request.IsChat
            ? OpenAiPayloads.ChatCompletionChunk(id, created, request.Backend.ModelId, text is null ? new { } : (object)new { Content = text }, logprobs, finishReason, request.Sampling.Seed)
            : OpenAiPayloads.CompletionChunk(id, created, request.Backend.ModelId, text ?? "", logprobs, finishReason, request.Sampling.Seed);

    private static async Task WriteEventAsync(HttpResponse response, object payload, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(payload, JsonOptions);
        await response.WriteAsync($"data: {json}\n\n", cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static object ErrorPayload(GatewayRequestException exception) =>
        OpenAiPayloads.Error(exception.Message, exception.Type, exception.Param, exception.Code);

    /// <summary>Writes OpenAI's error object with the exception's status.</summary>
    public static async Task WriteErrorAsync(HttpResponse response, GatewayRequestException exception, CancellationToken cancellationToken)
    {
        response.StatusCode = exception.StatusCode;
        response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(response.Body, ErrorPayload(exception), JsonOptions, cancellationToken).ConfigureAwait(false);
    }
}
