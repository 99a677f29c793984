using System.Net;
using System.Text;
using System.Text.Json;
using Strata.Runtime.Gateway;

namespace Strata.Runtime.Tests.Gateway;

[Trait("Category", "Integration")]
public sealed class GatewayAdmissionTests
{
    private const string StreamRequest = """{"prompt": "hi", "max_tokens": 8, "stream": true}""";

    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_request_beyond_the_concurrency_limit_and_an_empty_queue_gets_429_and_the_slot_frees_when_the_client_leaves()
    {
        var backend = new BlockingBackend();
        await using var host = await GatewayHost.StartAsync([backend], options: new GatewayOptions { MaxConcurrentRequests = 1, MaxQueuedRequests = 0 });
        using var client = GatewayHttp.Client(host.Address);

        var first = await OpenStreamAsync(client);
        var (status, error) = await GatewayHttp.PostAsync(client, "/v1/completions", """{"prompt": "hi"}""");
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        GatewayHttp.AssertError(error, null, "rate_limit_exceeded", "requests");

        first.Dispose(); // the client disconnects: the generation is cancelled and the slot freed
        await WaitUntilAsync(() => host.ActiveRequests == 0 && backend.Running == 0, "the first generation to end after its client left");
        Assert.Equal(1, backend.Cancelled);
        var second = await OpenStreamAsync(client);
        second.Dispose();
    }

    [Fact]
    public async Task A_request_past_its_deadline_gets_504()
    {
        var backend = new BlockingBackend();
        await using var host = await GatewayHost.StartAsync([backend], options: new GatewayOptions { RequestDeadline = TimeSpan.FromMilliseconds(200) });
        using var client = GatewayHttp.Client(host.Address);

        var (status, error) = await GatewayHttp.PostAsync(client, "/v1/completions", """{"prompt": "hi", "max_tokens": 8}""");

        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        GatewayHttp.AssertError(error, null, "deadline_exceeded", "timeout");
        await WaitUntilAsync(() => host.ActiveRequests == 0, "the slot to be freed after the deadline");
    }

    [Fact]
    public async Task A_stream_past_its_deadline_ends_with_an_error_event_and_no_done()
    {
        var backend = new BlockingBackend();
        await using var host = await GatewayHost.StartAsync([backend], options: new GatewayOptions { RequestDeadline = TimeSpan.FromMilliseconds(200) });
        using var client = GatewayHttp.Client(host.Address);

        var events = await GatewayHttp.StreamAsync(client, "/v1/completions", StreamRequest);

        Assert.Equal("A", JsonDocument.Parse(events[0]).RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.DoesNotContain("[DONE]", events);
        GatewayHttp.AssertError(JsonDocument.Parse(events[^1]).RootElement, null, "deadline_exceeded", "timeout");
    }

    [Fact]
    public async Task A_failure_along_the_chain_gets_500_with_the_reason_or_a_stream_error_event()
    {
        await using var host = await GatewayHost.StartAsync([new BlockingBackend(failAfterFirstToken: true)]);
        using var client = GatewayHttp.Client(host.Address);

        var (status, error) = await GatewayHttp.PostAsync(client, "/v1/completions", """{"prompt": "hi", "max_tokens": 8}""");
        var events = await GatewayHttp.StreamAsync(client, "/v1/completions", StreamRequest);

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        GatewayHttp.AssertError(error, null, "generation_failed", "server_error");
        Assert.Contains("is gone", error.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", events);
        GatewayHttp.AssertError(JsonDocument.Parse(events[^1]).RootElement, null, "generation_failed", "server_error");
    }

    [Fact]
    public async Task Stopping_the_gateway_ends_streams_in_flight_with_an_error_event()
    {
        var backend = new BlockingBackend();
        var host = await GatewayHost.StartAsync([backend]);
        using var client = GatewayHttp.Client(host.Address);
        using var stream = await OpenStreamAsync(client);

        await host.DisposeAsync();
        var events = await GatewayHttp.ReadEventsAsync(stream);

        Assert.Equal(1, backend.Cancelled);
        GatewayHttp.AssertError(JsonDocument.Parse(events[^1]).RootElement, null, "shutting_down", "server_error");
    }

    private static async Task<HttpResponseMessage> OpenStreamAsync(HttpClient client)
    {
        using var content = new StringContent(StreamRequest, Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = content };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Generous;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out after {Generous.TotalSeconds} s waiting for {what}.");
            await Task.Delay(20);
        }
    }
}
