namespace Strata.Runtime.Gateway;

/// <summary>The response bodies of OpenAI's API, as objects that serialize with snake_case names.</summary>
/// <remarks>Every completion body and chunk also carries <c>seed</c>, the sampling seed used (drawn at random when the request gave none), so a call can be repeated exactly.</remarks>
internal static class OpenAiPayloads
{
    public static object Error(string message, string type, string? param, string? code) =>
        new { Error = new { Message = message, Type = type, Param = param, Code = code } };

    public static object Model(string id, long createdUnixSeconds) => new { Id = id, Object = "model", Created = createdUnixSeconds, OwnedBy = "strata" };

    public static object ModelList(IEnumerable<string> modelIds, long createdUnixSeconds) =>
        new { Object = "list", Data = modelIds.Select(id => Model(id, createdUnixSeconds)).ToArray() };

    public static object Completion(string id, long createdUnixSeconds, string model, string text, object? logprobs, string finishReason, int promptTokens, int completionTokens, ulong seed) =>
        new
        {
            Id = id,
            Object = "text_completion",
            Created = createdUnixSeconds,
            Model = model,
            Seed = seed,
            Choices = new[] { new { Text = text, Index = 0, Logprobs = logprobs, FinishReason = finishReason } },
            Usage = Usage(promptTokens, completionTokens),
        };

    public static object CompletionChunk(string id, long createdUnixSeconds, string model, string text, object? logprobs, string? finishReason, ulong seed) =>
        new
        {
            Id = id,
            Object = "text_completion",
            Created = createdUnixSeconds,
            Model = model,
            Seed = seed,
            Choices = new[] { new { Text = text, Index = 0, Logprobs = logprobs, FinishReason = finishReason } },
        };

    public static object ChatCompletion(string id, long createdUnixSeconds, string model, string text, object? logprobs, string finishReason, int promptTokens, int completionTokens, ulong seed) =>
        new
        {
            Id = id,
            Object = "chat.completion",
            Created = createdUnixSeconds,
            Model = model,
            Seed = seed,
            Choices = new[] { new { Index = 0, Message = new { Role = "assistant", Content = text }, Logprobs = logprobs, FinishReason = finishReason } },
            Usage = Usage(promptTokens, completionTokens),
        };

    /// <summary>A chat chunk; <paramref name="delta"/> is <c>{role, content}</c> first, <c>{content}</c> after, <c>{}</c> with the finish reason.</summary>
    public static object ChatCompletionChunk(string id, long createdUnixSeconds, string model, object delta, object? logprobs, string? finishReason, ulong seed) =>
        new
        {
            Id = id,
            Object = "chat.completion.chunk",
            Created = createdUnixSeconds,
            Model = model,
            Seed = seed,
            Choices = new[] { new { Index = 0, Delta = delta, Logprobs = logprobs, FinishReason = finishReason } },
        };

    /// <summary>The last chunk of a stream asked for with <c>stream_options.include_usage</c>: no choices, the usage.</summary>
    public static object UsageChunk(string id, long createdUnixSeconds, string model, bool isChat, int promptTokens, int completionTokens, ulong seed) =>
        new
        {
            Id = id,
            Object = isChat ? "chat.completion.chunk" : "text_completion",
            Created = createdUnixSeconds,
            Model = model,
            Seed = seed,
            Choices = Array.Empty<object>(),
            Usage = Usage(promptTokens, completionTokens),
        };

    private static object Usage(int promptTokens, int completionTokens) =>
        new { PromptTokens = promptTokens, CompletionTokens = completionTokens, TotalTokens = promptTokens + completionTokens };
}
