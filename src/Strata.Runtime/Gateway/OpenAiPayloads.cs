namespace Strata.Runtime.Gateway;

/// <summary>The response bodies of OpenAI's API, as objects that serialize with snake_case names.</summary>
internal static class OpenAiPayloads
{
    public static object Error(string message, string type, string? param, string? code) =>
        new { Error = new { Message = message, Type = type, Param = param, Code = code } };

    public static object ModelList(IEnumerable<string> modelIds, long createdUnixSeconds) =>
        new { Object = "list", Data = modelIds.Select(id => new { Id = id, Object = "model", Created = createdUnixSeconds, OwnedBy = "strata" }).ToArray() };

    public static object Completion(string id, long createdUnixSeconds, string model, string text, string finishReason, int promptTokens, int completionTokens) =>
        new
        {
            Id = id,
            Object = "text_completion",
            Created = createdUnixSeconds,
            Model = model,
            Choices = new[] { new { Text = text, Index = 0, Logprobs = (object?)null, FinishReason = finishReason } },
            Usage = Usage(promptTokens, completionTokens),
        };

    public static object CompletionChunk(string id, long createdUnixSeconds, string model, string text, string? finishReason) =>
        new
        {
            Id = id,
            Object = "text_completion",
            Created = createdUnixSeconds,
            Model = model,
            Choices = new[] { new { Text = text, Index = 0, Logprobs = (object?)null, FinishReason = finishReason } },
        };

    public static object ChatCompletion(string id, long createdUnixSeconds, string model, string text, string finishReason, int promptTokens, int completionTokens) =>
        new
        {
            Id = id,
            Object = "chat.completion",
            Created = createdUnixSeconds,
            Model = model,
            Choices = new[] { new { Index = 0, Message = new { Role = "assistant", Content = text }, Logprobs = (object?)null, FinishReason = finishReason } },
            Usage = Usage(promptTokens, completionTokens),
        };

    /// <summary>A chat chunk; <paramref name="delta"/> is <c>{role, content}</c> first, <c>{content}</c> after, <c>{}</c> with the finish reason.</summary>
    public static object ChatCompletionChunk(string id, long createdUnixSeconds, string model, object delta, string? finishReason) =>
        new
        {
            Id = id,
            Object = "chat.completion.chunk",
            Created = createdUnixSeconds,
            Model = model,
            Choices = new[] { new { Index = 0, Delta = delta, Logprobs = (object?)null, FinishReason = finishReason } },
        };

    private static object Usage(int promptTokens, int completionTokens) =>
        new { PromptTokens = promptTokens, CompletionTokens = completionTokens, TotalTokens = promptTokens + completionTokens };
}
