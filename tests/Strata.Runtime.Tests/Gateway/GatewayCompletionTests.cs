using System.Net;
using System.Text;
using System.Text.Json;
using Strata.Runtime.Engine;
using Strata.Runtime.Sampling;

namespace Strata.Runtime.Tests.Gateway;

[Trait("Category", "Integration")]
public sealed class GatewayCompletionTests(TinyGatewayFixture fixture) : IClassFixture<TinyGatewayFixture>
{
    private const string Prompt = "The quick brown fox";

    [Fact]
    public async Task Greedy_completion_equals_local_generation_and_has_the_openai_shape()
    {
        using var client = GatewayHttp.Client(fixture.Host.Address);
        var (status, body) = await GatewayHttp.PostAsync(client, "/v1/completions",
            $$"""{"model": "tiny", "prompt": "{{Prompt}}", "max_tokens": 12, "temperature": 0}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("cmpl-", body.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        Assert.Equal(TinyGatewayFixture.Now.ToUnixTimeSeconds(), body.GetProperty("created").GetInt64());
        Assert.Equal("tiny", body.GetProperty("model").GetString());
        var choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        Assert.Equal(await fixture.LocalTextAsync(Prompt, new GenerationOptions { MaxNewTokens = 12 }), choice.GetProperty("text").GetString());
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        var usage = body.GetProperty("usage");
        Assert.Equal(Encoding.UTF8.GetByteCount(Prompt), usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(12, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(Encoding.UTF8.GetByteCount(Prompt) + 12, usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Streamed_chunks_concatenate_to_the_non_streamed_text_and_end_with_done()
    {
        using var client = GatewayHttp.Client(fixture.Host.Address);
        const string Request = """{"prompt": "Hello", "max_tokens": 20, "temperature": 0.9, "top_p": 0.95, "seed": 11""";
        var (_, whole) = await GatewayHttp.PostAsync(client, "/v1/completions", Request + "}");
        var events = await GatewayHttp.StreamAsync(client, "/v1/completions", Request + ", \"stream\": true}");

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        var text = string.Concat(chunks.Select(c => c.GetProperty("choices")[0].GetProperty("text").GetString()));
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("text").GetString(), text);
        Assert.Equal("length", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.All(chunks[..^1], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));
    }

    [Fact]
    public async Task Seeded_sampling_equals_local_sampling_with_the_same_seed_on_every_request()
    {
        using var client = GatewayHttp.Client(fixture.Host.Address);
        const string Request = """{"prompt": "Once upon a time", "max_tokens": 16, "temperature": 1.2, "top_p": 0.9, "seed": 42}""";
        var first = await GatewayHttp.PostAsync(client, "/v1/completions", Request);
        var second = await GatewayHttp.PostAsync(client, "/v1/completions", Request);
        var other = await GatewayHttp.PostAsync(client, "/v1/completions", Request.Replace("42", "43", StringComparison.Ordinal));

        var expected = await fixture.LocalTextAsync("Once upon a time", new GenerationOptions
        {
            MaxNewTokens = 16,
            Sampling = new SamplingOptions { Temperature = 1.2, TopP = 0.9, Seed = 42 },
        });
        Assert.Equal(expected, first.Body.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(expected, second.Body.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.NotEqual(expected, other.Body.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Chat_completion_renders_the_template_and_streams_deltas_that_add_up()
    {
        using var client = GatewayHttp.Client(fixture.Host.Address);
        const string Request = """{"model": "tiny", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hi"}]}], "max_tokens": 10, "temperature": 0""";
        var (status, body) = await GatewayHttp.PostAsync(client, "/v1/chat/completions", Request + "}");
        var events = await GatewayHttp.StreamAsync(client, "/v1/chat/completions", Request + ", \"stream\": true}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        var message = body.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        var expected = await fixture.LocalTextAsync("<|system|>\nBe brief.\n<|user|>\nHi\n<|assistant|>\n", new GenerationOptions { MaxNewTokens = 10 });
        Assert.Equal(expected, message.GetProperty("content").GetString());
        Assert.Equal("length", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(10, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var deltas = chunks.Select(c => c.GetProperty("choices")[0].GetProperty("delta"))
            .Select(d => d.TryGetProperty("content", out var content) ? content.GetString() : "");
        Assert.Equal(expected, string.Concat(deltas));
        Assert.Equal("length", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task A_stop_sequence_cuts_the_text_before_it_in_both_modes()
    {
        using var client = GatewayHttp.Client(fixture.Host.Address);
        var full = await fixture.LocalTextAsync(Prompt, new GenerationOptions { MaxNewTokens = 24 });
        var stop = Enumerable.Range(2, full.Length - 4).Select(i => full.Substring(i, 2)).First(s => !s.Contains('\uFFFD', StringComparison.Ordinal));
        var expected = full[..full.IndexOf(stop, StringComparison.Ordinal)];
        var request = JsonSerializer.Serialize(new Dictionary<string, object> { ["prompt"] = Prompt, ["max_tokens"] = 24, ["temperature"] = 0, ["stop"] = new[] { stop } });

        var (_, body) = await GatewayHttp.PostAsync(client, "/v1/completions", request);
        var events = await GatewayHttp.StreamAsync(client, "/v1/completions", request[..^1] + ", \"stream\": true}");

        Assert.Equal(expected, body.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal("stop", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.Equal(expected, string.Concat(chunks.Select(c => c.GetProperty("choices")[0].GetProperty("text").GetString())));
        Assert.Equal("stop", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Concurrent_requests_up_to_the_limit_all_equal_their_local_generation()
    {
        using var client = GatewayHttp.Client(fixture.Host.Address);
        var prompts = Enumerable.Range(0, TinyGatewayFixture.Options.MaxConcurrentRequests).Select(i => $"Request {i}:").ToArray();

        var answers = await Task.WhenAll(prompts.Select((prompt, i) => GatewayHttp.PostAsync(client, "/v1/completions",
            $$"""{"prompt": "{{prompt}}", "max_tokens": 8, "temperature": 0.8, "seed": {{i}}}""")));

        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(HttpStatusCode.OK, answers[i].Status);
            var expected = await fixture.LocalTextAsync(prompts[i], new GenerationOptions
            {
                MaxNewTokens = 8,
                Sampling = new SamplingOptions { Temperature = 0.8, Seed = (ulong)i },
            });
            Assert.Equal(expected, answers[i].Body.GetProperty("choices")[0].GetProperty("text").GetString());
        }
    }

    [Fact]
    public async Task Models_lists_the_served_model()
    {
        using var client = GatewayHttp.Client(fixture.Host.Address);
        using var document = JsonDocument.Parse(await client.GetStringAsync("/v1/models"));

        Assert.Equal("list", document.RootElement.GetProperty("object").GetString());
        var model = Assert.Single(document.RootElement.GetProperty("data").EnumerateArray());
        Assert.Equal("tiny", model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
        Assert.Equal(TinyGatewayFixture.Now.ToUnixTimeSeconds(), model.GetProperty("created").GetInt64());
    }

    [Fact]
    public async Task Http2_with_prior_knowledge_is_served_on_the_h2c_endpoint()
    {
        using var client = GatewayHttp.Client(fixture.Host.Http2Address!);
        client.DefaultRequestVersion = HttpVersion.Version20;
        client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var response = await client.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        var events = await GatewayHttp.StreamAsync(client, "/v1/completions", """{"prompt": "Hi", "max_tokens": 6, "temperature": 0, "stream": true}""");
        var text = string.Concat(events[..^1].Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0].GetProperty("text").GetString()));
        Assert.Equal(await fixture.LocalTextAsync("Hi", new GenerationOptions { MaxNewTokens = 6 }), text);
        Assert.Equal("[DONE]", events[^1]);
    }
}
