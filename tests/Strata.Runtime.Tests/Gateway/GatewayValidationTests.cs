using System.Net;

namespace Strata.Runtime.Tests.Gateway;

[Trait("Category", "Integration")]
public sealed class GatewayValidationTests(TinyGatewayFixture fixture) : IClassFixture<TinyGatewayFixture>
{
    public static TheoryData<string, string, string?, string?> BadRequests => new()
    {
        { "/v1/completions", "{\"prompt\": \"hi\"", null, "invalid_json" },
        { "/v1/completions", "[1, 2]", null, "invalid_json" },
        { "/v1/completions", "{}", "prompt", "missing_required_parameter" },
        { "/v1/completions", "{\"prompt\": \"\"}", "prompt", "invalid_value" },
        { "/v1/completions", "{\"prompt\": 5}", "prompt", "invalid_type" },
        { "/v1/completions", "{\"prompt\": [\"a\", \"b\"]}", "prompt", "invalid_value" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"max_tokens\": 0}", "max_tokens", "invalid_value" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"max_tokens\": 65}", "max_tokens", "invalid_value" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"max_tokens\": \"4\"}", "max_tokens", "invalid_type" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"temperature\": -0.1}", "temperature", "invalid_value" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"temperature\": 2.5}", "temperature", "invalid_value" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"top_p\": 0}", "top_p", "invalid_value" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"top_p\": 1.5}", "top_p", "invalid_value" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"seed\": 1.5}", "seed", "invalid_type" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"stop\": [\"a\", \"\"]}", "stop", "invalid_value" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"n\": 2}", "n", "invalid_value" },
        { "/v1/completions", "{\"prompt\": \"hi\", \"stream\": \"yes\"}", "stream", "invalid_type" },
        { "/v1/completions", "{\"prompt\": \"" + new string('x', 300) + "\"}", "prompt", "context_length_exceeded" },
        { "/v1/chat/completions", "{}", "messages", "missing_required_parameter" },
        { "/v1/chat/completions", "{\"messages\": []}", "messages", "invalid_value" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}", "messages[0].role", "invalid_value" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\"}]}", "messages[0].content", "missing_required_parameter" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}", "messages[0].content", "invalid_value" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"" + new string('x', 300) + "\"}]}", "messages", "context_length_exceeded" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_completion_tokens\": 0}", "max_completion_tokens", "invalid_value" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_bad_request_gets_400_with_the_openai_error_shape(string path, string body, string? param, string? code)
    {
        using var client = GatewayHttp.Client(fixture.Host.Address);
        var (status, error) = await GatewayHttp.PostAsync(client, path, body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        GatewayHttp.AssertError(error, param, code);
    }

    [Fact]
    public async Task A_body_over_the_size_limit_gets_400()
    {
        using var client = GatewayHttp.Client(fixture.Host.Address);
        var body = "{\"prompt\": \"" + new string('x', (int)TinyGatewayFixture.Options.MaxRequestBodyBytes) + "\"}";
        var (status, error) = await GatewayHttp.PostAsync(client, "/v1/completions", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        GatewayHttp.AssertError(error, null, "request_too_large");
    }

    [Fact]
    public async Task A_chunked_body_over_the_size_limit_gets_400()
    {
        using var client = GatewayHttp.Client(fixture.Host.Address);
        var bytes = System.Text.Encoding.UTF8.GetBytes("{\"prompt\": \"" + new string('x', (int)TinyGatewayFixture.Options.MaxRequestBodyBytes) + "\"}");
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = content };
        request.Headers.TransferEncodingChunked = true; // no Content-Length: Kestrel's own limit has to catch it
        using var response = await client.SendAsync(request);
        using var document = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        GatewayHttp.AssertError(document.RootElement, null, "request_too_large");
    }
}
