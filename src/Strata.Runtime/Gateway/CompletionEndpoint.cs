using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Strata.Runtime.Engine;

namespace Strata.Runtime.Gateway;

/// <summary>Serves <c>/v1/completions</c> and <c>/v1/chat/completions</c>: validation, admission, deadline, generation, JSON or server-sent events.</summary>
internal sealed class CompletionEndpoint : IDisposable
{
    /// <summary>Names are snake_case like OpenAI's; nulls are written (<c>"logprobs": null</c>).</summary>
    public static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly IReadOnlyList<ICompletionBackend> _backends;
    private readonly GatewayOptions _options;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _admission;
    private readonly CancellationTokenSource _stopping = new();

    public CompletionEndpoint(IReadOnlyList<ICompletionBackend> backends, GatewayOptions options, TimeProvider time)
    {
        _backends = backends;
        _options = options;
        _time = time;
        _admission = new SemaphoreSlim(options.MaxConcurrentRequests, options.MaxConcurrentRequests);
    }

    /// <summary>Generations running now.</summary>
    public int ActiveRequests => _options.MaxConcurrentRequests - _admission.CurrentCount;

    public async Task HandleAsync(HttpContext context, bool isChat)
    {
        var aborted = context.RequestAborted;
        try
        {
            var body = await ReadBodyAsync(context.Request, aborted).ConfigureAwait(false);
            var request = CompletionRequestParser.Parse(body, isChat, _options, _backends);
            var promptTokens = request.Backend.Tokenizer.Encode(request.PromptText);
            var promptParam = isChat ? "messages" : "prompt";
            if (promptTokens.Count == 0)
            {
                throw new GatewayRequestException($"{promptParam} tokenizes to no tokens; give some text.", promptParam, "invalid_value");
            }

            if (promptTokens.Count > _options.MaxPromptTokens)
            {
                throw new GatewayRequestException(
                    $"The prompt is {promptTokens.Count} tokens; this gateway accepts at most {_options.MaxPromptTokens}. Shorten the {promptParam}.", promptParam, "context_length_exceeded");
            }

            if (!_admission.Wait(0, CancellationToken.None))
            {
                context.Response.Headers.RetryAfter = "1";
                throw new GatewayRequestException(
                    $"The gateway is running its limit of {_options.MaxConcurrentRequests} generations; retry shortly.", null, "rate_limit_exceeded", StatusCodes.Status429TooManyRequests, "requests");
            }

            try
            {
                await GenerateAsync(context, request, promptTokens).ConfigureAwait(false);
            }
            finally
            {
                _admission.Release();
            }
        }
        catch (GatewayRequestException exception) when (!context.Response.HasStarted)
        {
            await WriteErrorAsync(context.Response, exception, aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away: nobody is left to answer.
        }
    }

    /// <summary>Cancels every generation in flight (the host is stopping); their clients get 503 or a stream error event.</summary>
    public void CancelAll() => _stopping.Cancel();

    public void Dispose()
    {
        _admission.Dispose();
        _stopping.Dispose();
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

    private async Task GenerateAsync(HttpContext context, CompletionRequest request, IReadOnlyList<int> promptTokens)
    {
        using var deadline = new CancellationTokenSource(_options.RequestDeadline, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, deadline.Token, _stopping.Token);
        var cancellationToken = linked.Token;
        var backend = request.Backend;
        var id = (request.IsChat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N");
        var created = _time.GetUtcNow().ToUnixTimeSeconds();
        var options = new GenerationOptions { MaxNewTokens = request.MaxTokens, Sampling = request.Sampling, StopTokenIds = backend.EndOfSequenceTokenIds };
        var decoder = new StreamingTextDecoder(backend.Tokenizer, request.StopSequences);
        var response = context.Response;
        var completionTokens = 0;
        var finishReason = "length";
        try
        {
            if (request.Stream)
            {
                response.ContentType = "text/event-stream";
                response.Headers.CacheControl = "no-cache";
                context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
                if (request.IsChat)
                {
                    await WriteEventAsync(response, OpenAiPayloads.ChatCompletionChunk(id, created, backend.ModelId, new { Role = "assistant", Content = "" }, null), cancellationToken)
                        .ConfigureAwait(false);
                }
            }

            await foreach (var token in backend.GenerateAsync(promptTokens, options, cancellationToken).ConfigureAwait(false))
            {
                completionTokens++;
                if (backend.EndOfSequenceTokenIds.Contains(token))
                {
                    finishReason = "stop";
                    break;
                }

                var piece = decoder.Append(token);
                if (request.Stream && piece.Length > 0)
                {
                    await WriteEventAsync(response, Chunk(request, id, created, piece, null), cancellationToken).ConfigureAwait(false);
                }

                if (decoder.StopSequenceFound)
                {
                    finishReason = "stop";
                    break;
                }
            }

            var rest = decoder.Finish(out var text);
            if (request.Stream)
            {
                if (rest.Length > 0)
                {
                    await WriteEventAsync(response, Chunk(request, id, created, rest, null), cancellationToken).ConfigureAwait(false);
                }

                await WriteEventAsync(response, Chunk(request, id, created, null, finishReason), cancellationToken).ConfigureAwait(false);
                await response.WriteAsync("data: [DONE]\n\n", cancellationToken).ConfigureAwait(false);
                await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            var payload = request.IsChat
                ? OpenAiPayloads.ChatCompletion(id, created, backend.ModelId, text, finishReason, promptTokens.Count, completionTokens)
                : OpenAiPayloads.Completion(id, created, backend.ModelId, text, finishReason, promptTokens.Count, completionTokens);
            response.ContentType = "application/json";
            await JsonSerializer.SerializeAsync(response.Body, payload, JsonOptions, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            throw; // the client left; HandleAsync drops the request
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            await FailAsync(response, new GatewayRequestException(
                $"The request ran past the gateway's deadline of {_options.RequestDeadline.TotalSeconds:0.###} s after {completionTokens} tokens; ask for fewer tokens or retry.",
                null, "deadline_exceeded", StatusCodes.Status504GatewayTimeout, "timeout")).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            await FailAsync(response, new GatewayRequestException(
                "The gateway is shutting down; retry on another gateway or later.", null, "shutting_down", StatusCodes.Status503ServiceUnavailable, "server_error"))
                .ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // A failure along the chain (a block server gone, a tensor refused): the client gets the reason, not a bare 500.
            await FailAsync(response, new GatewayRequestException(
                $"The generation failed after {completionTokens} tokens: {exception.Message}", null, "generation_failed", StatusCodes.Status500InternalServerError, "server_error"))
                .ConfigureAwait(false);
        }
    }

    // A stream that already sent 200 ends with an error event (and no [DONE]); otherwise the status and error object.
    private static Task FailAsync(HttpResponse response, GatewayRequestException error) =>
        response.HasStarted
            ? WriteEventAsync(response, ErrorPayload(error), CancellationToken.None)
            : WriteErrorAsync(response, error, CancellationToken.None);

    private static object Chunk(CompletionRequest request, string id, long created, string? text, string? finishReason) =>
        request.IsChat
            ? OpenAiPayloads.ChatCompletionChunk(id, created, request.Backend.ModelId, text is null ? new { } : (object)new { Content = text }, finishReason)
            : OpenAiPayloads.CompletionChunk(id, created, request.Backend.ModelId, text ?? "", finishReason);

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
