using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Strata.Runtime.Engine;
using Strata.Runtime.Gateway;
using Strata.Runtime.Sampling;

namespace Strata.Runtime.Tests.Gateway;

/// <summary>The calls OpenAI's official client makes, over HttpClient, against a gateway in front of an in-process swarm.</summary>
[Trait("Category", "Integration")]
public sealed class OpenAiClientTests(SwarmGatewayFixture fixture) : IClassFixture<SwarmGatewayFixture>
{
    private const double LogprobTolerance = 1e-4;

    [Fact]
    public async Task Models_are_listed_and_retrieved_and_an_unknown_one_is_404()
    {
        using var client = fixture.Client();
        var list = await GetJsonAsync(client, "/v1/models", HttpStatusCode.OK);
        var model = await GetJsonAsync(client, "/v1/models/tiny", HttpStatusCode.OK);
        var missing = await GetJsonAsync(client, "/v1/models/gpt-4", HttpStatusCode.NotFound);

        Assert.Equal("list", list.GetProperty("object").GetString());
        Assert.Equal("tiny", Assert.Single(list.GetProperty("data").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal("tiny", model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
        GatewayHttp.AssertError(missing, "model", "model_not_found");
    }

    [Fact]
    public async Task Completions_and_chat_match_local_generation_streamed_or_not()
    {
        using var client = fixture.Client();
        var (status, completion) = await GatewayHttp.PostAsync(client, "/v1/completions", """{"model": "tiny", "prompt": "The quick brown fox", "max_tokens": 10, "temperature": 0}""");
        var expected = await LocalTextAsync(fixture.Tokenizer.Encode("The quick brown fox"), new GenerationOptions { MaxNewTokens = 10 });
        var chatPrompt = ChatPrompt("Hello there");
        var chatRequest = """{"model": "tiny", "messages": [{"role": "user", "content": "Hello there"}], "max_tokens": 12, "temperature": 0.8, "seed": 5""";
        var (chatStatus, chat) = await GatewayHttp.PostAsync(client, "/v1/chat/completions", chatRequest + "}");
        var events = await GatewayHttp.StreamAsync(client, "/v1/chat/completions", chatRequest + """, "stream": true}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(expected, completion.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(HttpStatusCode.OK, chatStatus);
        var chatExpected = await LocalTextAsync(chatPrompt, new GenerationOptions { MaxNewTokens = 12, Sampling = new SamplingOptions { Temperature = 0.8, Seed = 5 } });
        Assert.Equal(chatExpected, chat.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("[DONE]", events[^1]);
        var streamed = string.Concat(events[..^1].Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0].GetProperty("delta"))
            .Select(d => d.TryGetProperty("content", out var c) ? c.GetString() : ""));
        Assert.Equal(chatExpected, streamed);
    }

    [Fact]
    public async Task Include_usage_adds_a_last_chunk_with_no_choices_and_the_usage()
    {
        using var client = fixture.Client();
        var events = await GatewayHttp.StreamAsync(client, "/v1/chat/completions",
            """{"messages": [{"role": "user", "content": "Count"}], "max_tokens": 7, "temperature": 0, "stream": true, "stream_options": {"include_usage": true}}""");
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();

        var last = chunks[^1];
        Assert.Empty(last.GetProperty("choices").EnumerateArray());
        var usage = last.GetProperty("usage");
        Assert.Equal(ChatPrompt("Count").Count, usage.GetProperty("prompt_tokens").GetInt32());
        var completionTokens = usage.GetProperty("completion_tokens").GetInt32();
        Assert.InRange(completionTokens, 1, 7);
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + completionTokens, usage.GetProperty("total_tokens").GetInt32());
        Assert.All(chunks[..^1], c => Assert.False(c.TryGetProperty("usage", out _)));
    }

    [Fact]
    public async Task Chat_logprobs_are_the_log_softmax_of_the_logits_sampled_from_streamed_or_not()
    {
        using var client = fixture.Client();
        const string Request = """{"messages": [{"role": "user", "content": "Tell me"}], "max_tokens": 10, "temperature": 0.9, "seed": 77, "logprobs": true, "top_logprobs": 3""";
        var (status, body) = await GatewayHttp.PostAsync(client, "/v1/chat/completions", Request + "}");
        var events = await GatewayHttp.StreamAsync(client, "/v1/chat/completions", Request + """, "stream": true}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var content = body.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("content").EnumerateArray().ToList();
        var prompt = ChatPrompt("Tell me");
        var tokens = await LocalTokensAsync(prompt, new GenerationOptions { MaxNewTokens = 10, Sampling = new SamplingOptions { Temperature = 0.9, Seed = 77 } });
        var reference = ReferenceLogSoftmax(prompt, tokens);
        Assert.InRange(content.Count, 1, 10);
        for (var i = 0; i < content.Count; i++)
        {
            var entry = content[i];
            Assert.Equal(fixture.Tokenizer.Decode([tokens[i]]), entry.GetProperty("token").GetString());
            Assert.Equal(reference[i][tokens[i]], entry.GetProperty("logprob").GetDouble(), LogprobTolerance);
            var top = entry.GetProperty("top_logprobs").EnumerateArray().ToList();
            var expectedTop = Enumerable.Range(0, reference[i].Length).OrderByDescending(id => reference[i][id]).ThenBy(id => id).Take(3).ToList();
            Assert.Equal(3, top.Count);
            for (var k = 0; k < 3; k++)
            {
                Assert.Equal(fixture.Tokenizer.Decode([expectedTop[k]]), top[k].GetProperty("token").GetString());
                Assert.Equal(reference[i][expectedTop[k]], top[k].GetProperty("logprob").GetDouble(), LogprobTolerance);
            }
        }

        var streamedContent = events[..^1].Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0].GetProperty("logprobs"))
            .Where(l => l.ValueKind == JsonValueKind.Object).SelectMany(l => l.GetProperty("content").EnumerateArray()).ToList();
        Assert.Equal(content.Select(c => c.GetRawText()), streamedContent.Select(c => c.GetRawText()));
    }

    [Fact]
    public async Task Completion_logprobs_match_the_reference_and_greedy_picks_the_top_token()
    {
        using var client = fixture.Client();
        var (status, body) = await GatewayHttp.PostAsync(client, "/v1/completions", """{"prompt": "Once", "max_tokens": 8, "temperature": 0, "logprobs": 2}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var logprobs = body.GetProperty("choices")[0].GetProperty("logprobs");
        var prompt = fixture.Tokenizer.Encode("Once");
        var tokens = await LocalTokensAsync(prompt, new GenerationOptions { MaxNewTokens = 8 });
        var reference = ReferenceLogSoftmax(prompt, tokens);
        var tokenLogprobs = logprobs.GetProperty("token_logprobs").EnumerateArray().Select(e => e.GetDouble()).ToList();
        var tops = logprobs.GetProperty("top_logprobs").EnumerateArray().ToList();
        var offsets = logprobs.GetProperty("text_offset").EnumerateArray().Select(e => e.GetInt32()).ToList();
        Assert.Equal(tokenLogprobs.Count, tops.Count);
        Assert.Equal(tokenLogprobs.Count, offsets.Count);
        Assert.Equal(0, offsets[0]);
        Assert.True(offsets.Zip(offsets.Skip(1)).All(p => p.First <= p.Second), "text offsets never decrease");
        for (var i = 0; i < tokenLogprobs.Count; i++)
        {
            Assert.Equal(reference[i][tokens[i]], tokenLogprobs[i], LogprobTolerance);
            Assert.Equal(reference[i].Max(), tokenLogprobs[i], LogprobTolerance); // greedy: the chosen token is the most likely
            Assert.Equal(reference[i].Max(), tops[i].EnumerateObject().Max(p => p.Value.GetDouble()), LogprobTolerance);
        }
    }

    [Fact]
    public async Task A_request_without_a_seed_reports_a_random_one_that_reproduces_the_text_exactly()
    {
        using var client = fixture.Client();
        const string Request = """{"prompt": "Roll", "max_tokens": 16, "temperature": 1.0""";
        using var first = await PostRawAsync(client, "/v1/completions", Request + "}");
        using var second = await PostRawAsync(client, "/v1/completions", Request + "}");
        var firstBody = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement;
        var seed = firstBody.GetProperty("seed").GetUInt64();
        var secondSeed = JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement.GetProperty("seed").GetUInt64();
        var (_, replay) = await GatewayHttp.PostAsync(client, "/v1/completions", Request + $", \"seed\": {seed}}}");

        Assert.Equal(seed.ToString(CultureInfo.InvariantCulture), Assert.Single(first.Headers.GetValues(CompletionEndpoint.SeedHeader)));
        Assert.NotEqual(seed, secondSeed); // drawn from a CSPRNG: equal with probability 2^-64
        Assert.Equal(seed, replay.GetProperty("seed").GetUInt64());
        Assert.Equal(firstBody.GetProperty("choices")[0].GetProperty("text").GetString(), replay.GetProperty("choices")[0].GetProperty("text").GetString());
        var local = await LocalTextAsync(fixture.Tokenizer.Encode("Roll"), new GenerationOptions { MaxNewTokens = 16, Sampling = new SamplingOptions { Temperature = 1.0, Seed = seed } });
        Assert.Equal(local, replay.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_stop_sequence_ends_the_text_before_it_and_echo_prepends_the_prompt()
    {
        using var client = fixture.Client();
        var full = await LocalTextAsync(fixture.Tokenizer.Encode("Stop"), new GenerationOptions { MaxNewTokens = 20 });
        var stop = Enumerable.Range(2, full.Length - 4).Select(i => full.Substring(i, 2)).First(s => !s.Contains('\uFFFD', StringComparison.Ordinal));
        var request = JsonSerializer.Serialize(new Dictionary<string, object> { ["prompt"] = "Stop", ["max_tokens"] = 20, ["temperature"] = 0, ["stop"] = stop, ["echo"] = true });
        var (status, body) = await GatewayHttp.PostAsync(client, "/v1/completions", request);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Stop" + full[..full.IndexOf(stop, StringComparison.Ordinal)], body.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal("stop", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    public static TheoryData<string, string, string, HttpStatusCode, string?, string?> ErrorCases => new()
    {
        { "POST", "/v1/completions", """{"prompt": "hi", "model": "gpt-4"}""", HttpStatusCode.NotFound, "model", "model_not_found" },
        { "GET", "/v1/engines", "", HttpStatusCode.NotFound, null, "unknown_url" },
        { "POST", "/v1/models", "{}", HttpStatusCode.MethodNotAllowed, null, "method_not_allowed" },
        { "POST", "/v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "f"}}]}""", HttpStatusCode.BadRequest, "tools", "unsupported_parameter" },
        { "POST", "/v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_object"}}""", HttpStatusCode.BadRequest, "response_format", "unsupported_parameter" },
        { "POST", "/v1/completions", """{"prompt": "hi", "presence_penalty": 0.5}""", HttpStatusCode.BadRequest, "presence_penalty", "unsupported_parameter" },
        { "POST", "/v1/completions", """{"prompt": "hi", "stream_options": {"include_usage": true}}""", HttpStatusCode.BadRequest, "stream_options", "invalid_value" },
        { "POST", "/v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}], "top_logprobs": 2}""", HttpStatusCode.BadRequest, "top_logprobs", "invalid_value" },
        { "POST", "/v1/completions", """{"prompt": "hi", "logprobs": 6}""", HttpStatusCode.BadRequest, "logprobs", "invalid_value" },
        { "POST", "/v1/completions", "{\"prompt\": \"" + new string('x', 500) + "\", \"max_tokens\": 64}", HttpStatusCode.BadRequest, "prompt", "context_length_exceeded" },
    };

    [Theory]
    [MemberData(nameof(ErrorCases))]
    public async Task Errors_have_openai_status_codes_and_error_objects(string method, string path, string body, HttpStatusCode expected, string? param, string? code)
    {
        using var client = fixture.Client();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        GatewayHttp.AssertError(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement, param, code);
    }

    [Fact]
    public async Task Without_max_tokens_the_completion_shrinks_to_fit_the_context()
    {
        using var client = fixture.Client();
        var (status, body) = await GatewayHttp.PostAsync(client, "/v1/completions", "{\"prompt\": \"" + new string('x', 505) + "\", \"temperature\": 0}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body.GetProperty("usage").GetProperty("total_tokens").GetInt32() <= fixture.Model.Config.Architecture.MaxContextTokens);
    }

    [Fact]
    public async Task A_missing_or_wrong_api_key_gets_401_and_health_and_metrics_stay_open()
    {
        using var anonymous = fixture.Client(apiKey: null);
        using var wrong = fixture.Client(apiKey: "sk-wrong");

        var none = await GetJsonAsync(anonymous, "/v1/models", HttpStatusCode.Unauthorized);
        var bad = await GetJsonAsync(wrong, "/v1/models", HttpStatusCode.Unauthorized);
        var health = await GetJsonAsync(anonymous, "/health", HttpStatusCode.OK);
        using var metrics = await anonymous.GetAsync(new Uri("/metrics", UriKind.Relative));

        GatewayHttp.AssertError(none, null, "invalid_api_key");
        GatewayHttp.AssertError(bad, null, "invalid_api_key");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
    }

    [Fact]
    public async Task Thirty_two_concurrent_requests_all_complete_through_the_queue_and_the_metrics_move()
    {
        using var client = fixture.Client();
        var before = await ScrapeAsync(client);
        const string Request = """{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 6, "temperature": 0}""";
        var maxQueued = 0;
        using var watching = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!watching.IsCancellationRequested)
            {
                maxQueued = Math.Max(maxQueued, fixture.Host.QueuedRequests);
                await Task.Delay(2);
            }
        });

        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => GatewayHttp.PostAsync(client, "/v1/chat/completions", Request)));
        await watching.CancelAsync();
        await watcher;
        var after = await ScrapeAsync(client);

        var expected = await LocalTextAsync(ChatPrompt("Hi"), new GenerationOptions { MaxNewTokens = 6 });
        Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.All(results, r => Assert.Equal(expected, r.Body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()));
        Assert.True(maxQueued > 0, "32 requests on 2 slots should have queued");
        var completionTokens = results.Sum(r => r.Body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        const string Ok = "strata_gateway_requests_total{route=\"/v1/chat/completions\",status=\"200\"}";
        Assert.Equal(32, Value(after, Ok) - Value(before, Ok));
        Assert.Equal(completionTokens, Value(after, "strata_gateway_completion_tokens_total") - Value(before, "strata_gateway_completion_tokens_total"));
        Assert.Equal(32, Value(after, "strata_gateway_time_to_first_token_seconds_count") - Value(before, "strata_gateway_time_to_first_token_seconds_count"));
        Assert.True(Value(after, "strata_gateway_time_to_first_token_seconds_sum") > Value(before, "strata_gateway_time_to_first_token_seconds_sum"));
        Assert.Equal(0, Value(after, "strata_gateway_queue_depth"));
        Assert.Contains("strata_gateway_failovers_total", after, StringComparison.Ordinal);
    }

    private async Task<string> LocalTextAsync(IReadOnlyList<int> prompt, GenerationOptions options) =>
        fixture.Tokenizer.Decode([.. (await LocalTokensAsync(prompt, options)).TakeWhile(t => !fixture.Model.Config.EosTokenIds.Contains(t))]);

    private async Task<IReadOnlyList<int>> LocalTokensAsync(IReadOnlyList<int> prompt, GenerationOptions options) =>
        (await new TextGenerator(fixture.Model, new LocalBlockChain(fixture.Model)).GenerateAsync(prompt, options)).Tokens;

    private IReadOnlyList<int> ChatPrompt(string content) => fixture.Tokenizer.Encode(ChatTemplate.Render([("user", content)]));

    // The oracle: a fresh local forward pass, and log-softmax written the plain way (no max shift; the tiny model's logits are small).
    private List<double[]> ReferenceLogSoftmax(IReadOnlyList<int> prompt, IReadOnlyList<int> generated)
    {
        var model = fixture.Model;
        var session = model.CreateSession();
        var hidden = model.Embed([.. prompt]);
        model.ForwardBlocks(session, 0, model.Config.LayerCount, hidden, prompt.Count);
        var logits = model.ComputeLastLogits(hidden, prompt.Count);
        var result = new List<double[]>();
        foreach (var token in generated)
        {
            var logSum = Math.Log(logits.Sum(l => Math.Exp(l)));
            result.Add([.. logits.Select(l => l - logSum)]);
            hidden = model.Embed([token]);
            model.ForwardBlocks(session, 0, model.Config.LayerCount, hidden, 1);
            logits = model.ComputeLastLogits(hidden, 1);
        }

        return result;
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient client, string path, HttpStatusCode expected)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"GET {path}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<HttpResponseMessage> PostRawAsync(HttpClient client, string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var response = await client.PostAsync(new Uri(path, UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response;
    }

    private static async Task<string> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        return await response.Content.ReadAsStringAsync();
    }

    // The value of one sample line "name{labels} value" (0 when the series has not appeared yet).
    private static double Value(string exposition, string series)
    {
        var line = exposition.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }
}
