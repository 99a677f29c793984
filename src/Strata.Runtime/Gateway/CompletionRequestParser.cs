using System.Text.Json;
using Strata.Runtime.Sampling;

namespace Strata.Runtime.Gateway;

/// <summary>Reads and validates an OpenAI request body; every fault becomes a <see cref="GatewayRequestException"/> naming the field.</summary>
internal static class CompletionRequestParser
{
    /// <summary>Most stop sequences per request (OpenAI's limit).</summary>
    public const int MaxStopSequences = 4;

    private const double MaxTemperature = 2.0;

    /// <summary>Parses <paramref name="body"/> for a completions (<paramref name="isChat"/> false) or chat request.</summary>
    /// <exception cref="GatewayRequestException">The body is not JSON, a field is missing, of the wrong type or out of range, or the model is unknown.</exception>
    /// <param name="body">The request body.</param>
    /// <param name="isChat">Chat (true) or completions.</param>
    /// <param name="options">The gateway's limits.</param>
    /// <param name="backends">The models served.</param>
    /// <param name="newSeed">Draws the seed of a request that gives none.</param>
    public static CompletionRequest Parse(ReadOnlyMemory<byte> body, bool isChat, GatewayOptions options, IReadOnlyList<ICompletionBackend> backends, Func<ulong> newSeed)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException exception)
        {
            throw new GatewayRequestException($"The request body is not valid JSON ({exception.Message}); send a JSON object such as {{\"prompt\": \"Hello\", \"max_tokens\": 16}}.", null, "invalid_json");
        }

        using (document)
        {
            try
            {
                return Parse(document.RootElement, isChat, options, backends, newSeed);
            }
            catch (InvalidOperationException exception)
            {
                // JsonDocument accepts invalid UTF-8 and lone surrogates ("\ud800") inside strings; GetString refuses them.
                throw new GatewayRequestException(
                    $"The request body holds a string that is not valid Unicode (invalid UTF-8 or an unpaired surrogate escape): {exception.Message}", null, "invalid_json");
            }
        }
    }

    private static CompletionRequest Parse(JsonElement root, bool isChat, GatewayOptions options, IReadOnlyList<ICompletionBackend> backends, Func<ulong> newSeed)
    {
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new GatewayRequestException("The request body must be a JSON object.", null, "invalid_json");
            }

            RefuseUnsupported(root, isChat);

            var backend = ReadModel(root, backends);
            var prompt = isChat ? ReadMessages(root) : ReadPrompt(root);
            var maxTokensName = isChat && Has(root, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
            var maxTokens = ReadInt(root, maxTokensName) ?? options.DefaultMaxTokens;
            if (maxTokens < 1 || maxTokens > options.MaxCompletionTokens)
            {
                throw new GatewayRequestException($"{maxTokensName} is {maxTokens}; expected between 1 and {options.MaxCompletionTokens}.", maxTokensName, "invalid_value");
            }

            var temperature = ReadDouble(root, "temperature") ?? 1.0;
            if (temperature < 0 || temperature > MaxTemperature)
            {
                throw new GatewayRequestException($"temperature is {temperature}; expected between 0 (greedy) and {MaxTemperature}.", "temperature", "invalid_value");
            }

            var topP = ReadDouble(root, "top_p") ?? 1.0;
            if (topP <= 0 || topP > 1)
            {
                throw new GatewayRequestException($"top_p is {topP}; expected a number in (0, 1], such as 0.9.", "top_p", "invalid_value");
            }

            var n = ReadInt(root, "n") ?? 1;
            if (n != 1)
            {
                throw new GatewayRequestException($"n is {n}; only one choice per request is supported (n = 1).", "n", "invalid_value");
            }

            var stream = ReadBool(root, "stream") ?? false;
            var topLogprobs = isChat ? ReadChatLogprobs(root) : ReadCompletionLogprobs(root);
            var echo = !isChat && (ReadBool(root, "echo") ?? false);
            if (echo && topLogprobs is not null)
            {
                throw new GatewayRequestException("echo together with logprobs is not supported (it would need the prompt's log-probabilities); drop one of them.", "echo", "unsupported_parameter");
            }

            return new CompletionRequest
            {
                Backend = backend,
                PromptText = prompt,
                MaxTokens = maxTokens,
                MaxTokensGiven = Has(root, maxTokensName),
                Sampling = new SamplingOptions { Temperature = temperature, TopP = topP, Seed = ReadSeed(root) ?? newSeed() },
                StopSequences = ReadStop(root),
                Stream = stream,
                TopLogprobs = topLogprobs,
                Echo = echo,
                IncludeUsage = ReadIncludeUsage(root, stream),
                IsChat = isChat,
            };
        }
    }

    private static ICompletionBackend ReadModel(JsonElement root, IReadOnlyList<ICompletionBackend> backends)
    {
        if (!TryGet(root, "model", out var model))
        {
            return backends[0];
        }

        if (model.ValueKind != JsonValueKind.String)
        {
            throw TypeError("model", "a string");
        }

        var id = model.GetString()!;
        return backends.FirstOrDefault(b => string.Equals(b.ModelId, id, StringComparison.Ordinal)) ?? throw ModelNotFound(id, backends);
    }

    /// <summary>OpenAI's answer to an unknown model: 404 <c>model_not_found</c>, naming the models served.</summary>
    public static GatewayRequestException ModelNotFound(string id, IReadOnlyList<ICompletionBackend> backends) =>
        new($"The model '{id}' does not exist; this gateway serves {string.Join(", ", backends.Select(b => $"'{b.ModelId}'"))} (see GET /v1/models).",
            "model", "model_not_found", Microsoft.AspNetCore.Http.StatusCodes.Status404NotFound);

    // Every field the gateway reads, per endpoint; anything else is refused by name rather than silently dropped.
    private static readonly HashSet<string> CommonFields = new(StringComparer.Ordinal)
    {
        "model", "max_tokens", "temperature", "top_p", "n", "stream", "stream_options", "stop", "seed", "logprobs", "user",
        "presence_penalty", "frequency_penalty", "logit_bias",
    };

    private static readonly HashSet<string> ChatFields = new(StringComparer.Ordinal) { "messages", "max_completion_tokens", "top_logprobs" };

    private static readonly HashSet<string> CompletionFields = new(StringComparer.Ordinal) { "prompt", "echo", "best_of", "suffix" };

    private static void RefuseUnsupported(JsonElement root, bool isChat)
    {
        foreach (var property in root.EnumerateObject())
        {
            var name = property.Name;
            var value = property.Value;
            if (value.ValueKind == JsonValueKind.Null)
            {
                continue; // null means absent, as in OpenAI's API
            }

            var known = CommonFields.Contains(name) || (isChat ? ChatFields : CompletionFields).Contains(name);
            if (!known)
            {
                throw new GatewayRequestException(
                    $"{name} is not supported by this gateway ({(isChat ? "/v1/chat/completions" : "/v1/completions")} takes only {string.Join(", ", CommonFields.Concat(isChat ? ChatFields : CompletionFields).Order(StringComparer.Ordinal))}); remove it.",
                    name, "unsupported_parameter");
            }

            // Fields accepted only at their neutral value: anything else would change the output in a way this gateway does not implement.
            var neutral = name switch
            {
                "presence_penalty" or "frequency_penalty" => value.ValueKind == JsonValueKind.Number && value.GetDouble() == 0,
                "logit_bias" => value.ValueKind == JsonValueKind.Object && !value.EnumerateObject().Any(),
                "best_of" => value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var bestOf) && bestOf == 1,
                "suffix" => value.ValueKind == JsonValueKind.String && value.GetString()!.Length == 0,
                _ => true,
            };
            if (!neutral)
            {
                throw new GatewayRequestException(
                    $"{name} is not supported by this gateway except at its neutral value (penalties 0, logit_bias {{}}, best_of 1, suffix \"\"); remove it.",
                    name, "unsupported_parameter");
            }
        }
    }

    private static int? ReadChatLogprobs(JsonElement root)
    {
        var wanted = ReadBool(root, "logprobs") ?? false;
        var top = ReadInt(root, "top_logprobs");
        if (top is { } count && (count < 0 || count > TokenLogprobs.MaxTop))
        {
            throw new GatewayRequestException($"top_logprobs is {count}; expected between 0 and {TokenLogprobs.MaxTop}.", "top_logprobs", "invalid_value");
        }

        if (top is not null && !wanted)
        {
            throw new GatewayRequestException("top_logprobs needs \"logprobs\": true.", "top_logprobs", "invalid_value");
        }

        return wanted ? top ?? 0 : null;
    }

    // Completions take logprobs as the number of alternatives (OpenAI's limit: 5).
    private static int? ReadCompletionLogprobs(JsonElement root)
    {
        const int MaxCompletionLogprobs = 5;
        var count = ReadInt(root, "logprobs");
        if (count is < 0 or > MaxCompletionLogprobs)
        {
            throw new GatewayRequestException($"logprobs is {count}; expected an integer between 0 and {MaxCompletionLogprobs}.", "logprobs", "invalid_value");
        }

        return count;
    }

    private static bool ReadIncludeUsage(JsonElement root, bool stream)
    {
        if (!TryGet(root, "stream_options", out var streamOptions))
        {
            return false;
        }

        if (!stream)
        {
            throw new GatewayRequestException("stream_options is only allowed when stream is true.", "stream_options", "invalid_value");
        }

        if (streamOptions.ValueKind != JsonValueKind.Object)
        {
            throw TypeError("stream_options", "an object such as {\"include_usage\": true}");
        }

        foreach (var property in streamOptions.EnumerateObject())
        {
            if (property.Name != "include_usage")
            {
                throw new GatewayRequestException($"stream_options.{property.Name} is not supported; only include_usage is.", $"stream_options.{property.Name}", "unsupported_parameter");
            }
        }

        return ReadBool(streamOptions, "include_usage") is true;
    }

    private static string ReadPrompt(JsonElement root)
    {
        if (!TryGet(root, "prompt", out var prompt))
        {
            throw new GatewayRequestException("prompt is missing; give the text to complete, for example \"prompt\": \"Hello\".", "prompt", "missing_required_parameter");
        }

        var text = prompt.ValueKind switch
        {
            JsonValueKind.String => prompt.GetString()!,
            JsonValueKind.Array when prompt.GetArrayLength() == 1 && prompt[0].ValueKind == JsonValueKind.String => prompt[0].GetString()!,
            JsonValueKind.Array => throw new GatewayRequestException("prompt must be one string (or an array of exactly one string); batches and token arrays are not supported.", "prompt", "invalid_value"),
            _ => throw TypeError("prompt", "a string"),
        };
        if (text.Length == 0)
        {
            throw new GatewayRequestException("prompt is empty; give at least one character of text.", "prompt", "invalid_value");
        }

        return text;
    }

    private static string ReadMessages(JsonElement root)
    {
        if (!TryGet(root, "messages", out var messages))
        {
            throw new GatewayRequestException("messages is missing; give an array such as [{\"role\": \"user\", \"content\": \"Hello\"}].", "messages", "missing_required_parameter");
        }

        if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            throw new GatewayRequestException("messages must be a non-empty array of {\"role\", \"content\"} objects.", "messages", "invalid_value");
        }

        var rendered = new List<(string, string)>();
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var param = $"messages[{index}]";
            if (message.ValueKind != JsonValueKind.Object)
            {
                throw TypeError(param, "an object with role and content");
            }

            if (!TryGet(message, "role", out var role) || role.ValueKind != JsonValueKind.String || !ChatTemplate.Roles.Contains(role.GetString()!))
            {
                throw new GatewayRequestException(
                    $"{param}.role must be one of {string.Join(", ", ChatTemplate.Roles.Order(StringComparer.Ordinal))}.", $"{param}.role", "invalid_value");
            }

            rendered.Add((role.GetString()!, ReadContent(message, param)));
            index++;
        }

        return ChatTemplate.Render(rendered);
    }

    private static string ReadContent(JsonElement message, string param)
    {
        if (!TryGet(message, "content", out var content))
        {
            throw new GatewayRequestException($"{param}.content is missing.", $"{param}.content", "missing_required_parameter");
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            throw TypeError($"{param}.content", "a string or an array of text parts");
        }

        var parts = new List<string>();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !TryGet(part, "type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "text"
                || !TryGet(part, "text", out var text) || text.ValueKind != JsonValueKind.String)
            {
                throw new GatewayRequestException($"{param}.content: only text parts ({{\"type\": \"text\", \"text\": \"...\"}}) are supported.", $"{param}.content", "invalid_value");
            }

            parts.Add(text.GetString()!);
        }

        return string.Concat(parts);
    }

    private static string[] ReadStop(JsonElement root)
    {
        if (!TryGet(root, "stop", out var stop))
        {
            return [];
        }

        string[] stops = stop.ValueKind switch
        {
            JsonValueKind.String => [stop.GetString()!],
            JsonValueKind.Array => [.. stop.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw TypeError("stop", "a string or an array of strings"))],
            _ => throw TypeError("stop", "a string or an array of strings"),
        };
        if (stops.Length > MaxStopSequences || stops.Any(s => s.Length == 0))
        {
            throw new GatewayRequestException($"stop must hold at most {MaxStopSequences} non-empty strings.", "stop", "invalid_value");
        }

        return stops;
    }

    private static ulong? ReadSeed(JsonElement root)
    {
        if (!TryGet(root, "seed", out var seed))
        {
            return null;
        }

        if (seed.ValueKind == JsonValueKind.Number && seed.TryGetInt64(out var signed))
        {
            return unchecked((ulong)signed);
        }

        if (seed.ValueKind == JsonValueKind.Number && seed.TryGetUInt64(out var unsigned))
        {
            return unsigned;
        }

        throw TypeError("seed", "an integer");
    }

    private static int? ReadInt(JsonElement root, string name)
    {
        if (!TryGet(root, name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
        {
            throw TypeError(name, "an integer");
        }

        return (int)Math.Clamp(number, int.MinValue, int.MaxValue);
    }

    private static double? ReadDouble(JsonElement root, string name)
    {
        if (!TryGet(root, name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw TypeError(name, "a number");
    }

    private static bool? ReadBool(JsonElement root, string name)
    {
        if (!TryGet(root, name, out var value))
        {
            return null;
        }

        return value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : throw TypeError(name, "true or false");
    }

    private static bool Has(JsonElement root, string name) => TryGet(root, name, out _);

    // A field given as null counts as absent, as in OpenAI's API.
    private static bool TryGet(JsonElement element, string name, out JsonElement value) =>
        element.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static GatewayRequestException TypeError(string param, string expected) =>
        new($"{param} must be {expected}.", param, "invalid_type");
}
