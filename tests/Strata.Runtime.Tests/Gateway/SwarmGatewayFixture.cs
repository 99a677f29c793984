using System.Net.Http.Headers;
using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Gateway;
using Strata.Runtime.Tests.Coordination;
using Strata.Runtime.Tokenization;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Tests.Gateway;

/// <summary>A gateway with an API key in front of an in-process swarm of the tiny model (a coordinator and two block servers), on the system clock.</summary>
public sealed class SwarmGatewayFixture : IAsyncLifetime
{
    public const string ApiKey = "sk-strata-test";

    public static readonly GatewayOptions Options = new()
    {
        ApiKey = ApiKey, MaxConcurrentRequests = 2, MaxQueuedRequests = 64, MaxPromptTokens = 1024, MaxCompletionTokens = 256,
    };

    private TestSwarm? _swarm;
    private GatewayHost? _host;

    public GatewayHost Host => _host ?? throw new InvalidOperationException("The gateway has not started.");

    public LlamaModel Model { get; } = TestModels.Tiny();

    public ITextTokenizer Tokenizer { get; } = TokenizerLoader.Load(TestModels.TinyDirectory(), ModelFolder.LoadConfig(TestModels.TinyDirectory()));

    public async Task InitializeAsync()
    {
        _swarm = await TestSwarm.StartAsync();
        await _swarm.AddServerAsync("a", 0, 2);
        await _swarm.AddServerAsync("b", 2, 2);
        var head = TestSwarm.Load(0, 0, head: true);
        var client = _swarm.Client;
        var backend = new ChainCompletionBackend(head, Tokenizer, () => new CoordinatedBlockChain(client, head), "tiny");
        _host = await GatewayHost.StartAsync([backend], options: Options);
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (_swarm is not null)
        {
            await _swarm.DisposeAsync();
        }
    }

    /// <summary>An HTTP client set up as OpenAI's SDK is: base address, the key as a bearer token.</summary>
    public HttpClient Client(string? apiKey = ApiKey)
    {
        var client = GatewayHttp.Client(Host.Address);
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }
}
