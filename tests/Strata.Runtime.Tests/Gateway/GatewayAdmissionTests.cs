using System.Net;
using System.Text;
using System.Text.Json;
using Strata.Runtime.Coordination;
using Strata.Runtime.Gateway;
using Strata.Runtime.Tests.Coordination;

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
    public async Task A_request_waits_in_the_queue_and_only_a_full_queue_gets_429_with_a_retry_after()
    {
        var backend = new BlockingBackend();
        await using var host = await GatewayHost.StartAsync([backend], options: new GatewayOptions { MaxConcurrentRequests = 1, MaxQueuedRequests = 1 });
        using var client = GatewayHttp.Client(host.Address);

        var first = await OpenStreamAsync(client);
        var queued = OpenStreamAsync(client);
        await WaitUntilAsync(() => host.QueuedRequests == 1, "the second request to queue");
        using var content = new StringContent("""{"prompt": "hi"}""", Encoding.UTF8, "application/json");
        using var refused = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), content);
        using var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        GatewayHttp.AssertError(error.RootElement, null, "rate_limit_exceeded", "requests");
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "429 carries a Retry-After in whole seconds");
        Assert.False(queued.IsCompleted);
        first.Dispose(); // the running one leaves: the queued one is admitted
        using var second = await queued.WaitAsync(Generous);
        Assert.Equal(0, host.QueuedRequests);
    }

    [Fact]
    public async Task Retry_after_is_the_measured_service_time_times_the_queue_over_the_slots()
    {
        using var queue = new AdmissionQueue(maxRunning: 2, maxQueued: 3);
        Assert.True(await queue.EnterAsync(CancellationToken.None));
        Assert.True(await queue.EnterAsync(CancellationToken.None));
        Assert.Equal(1, queue.RetryAfterSeconds); // no measurement yet: 1 s * (0 + 1) / 2, rounded up
        queue.Exit(10.0);
        Assert.True(await queue.EnterAsync(CancellationToken.None));
        var waiting = Enumerable.Range(0, 3).Select(_ => queue.EnterAsync(CancellationToken.None).AsTask()).ToList();

        Assert.Equal(3, queue.Queued);
        Assert.False(await queue.EnterAsync(CancellationToken.None)); // the queue is full
        Assert.Equal(20, queue.RetryAfterSeconds); // ceil(10 s * (3 + 1) / 2)
        queue.Exit(null);
        Assert.True(await waiting[0]); // first come, first served
        Assert.False(waiting[1].IsCompleted);
    }

    [Fact]
    public async Task A_swarm_that_cannot_serve_gets_503_with_the_error_object()
    {
        await using var coordinator = await CoordinatorHost.StartAsync(); // no block servers: no chain covers the blocks
        using var live = new CoordinatorClient(coordinator.Address);
        using var dead = new CoordinatorClient(new Uri("http://127.0.0.1:1")); // nothing listens there
        var head = TestSwarm.Load(0, 0, head: true);
        var tokenizer = new Strata.Runtime.Tokenization.ByteTokenizer();
        await using var host = await GatewayHost.StartAsync([
            new ChainCompletionBackend(head, tokenizer, () => new CoordinatedBlockChain(live, head), "empty"),
            new ChainCompletionBackend(head, tokenizer, () => new CoordinatedBlockChain(dead, head), "unreachable"),
        ]);
        using var client = GatewayHttp.Client(host.Address);

        foreach (var model in new[] { "empty", "unreachable" })
        {
            var (status, error) = await GatewayHttp.PostAsync(client, "/v1/completions", $$"""{"model": "{{model}}", "prompt": "hi", "max_tokens": 4}""");
            Assert.True(status == HttpStatusCode.ServiceUnavailable, $"{model}: expected 503, got {(int)status}: {error}");
            GatewayHttp.AssertError(error, null, "swarm_unavailable", "server_error");
        }
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
