using Strata.Runtime.Engine;
using Strata.Runtime.Gateway;
using Strata.Runtime.Tokenization;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Tests.Gateway;

/// <summary>One gateway over the tiny random model (local chain), shared by a test class.</summary>
public sealed class TinyGatewayFixture : IAsyncLifetime
{
    public static readonly GatewayOptions Options = new() { MaxPromptTokens = 256, MaxCompletionTokens = 64, MaxRequestBodyBytes = 4096 };

    public static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private GatewayHost? _host;

    public GatewayHost Host => _host ?? throw new InvalidOperationException("The gateway has not started.");

    public LlamaModel Model { get; } = TestModels.Tiny();

    public ITextTokenizer Tokenizer { get; } = TokenizerLoader.Load(TestModels.TinyDirectory(), ModelFolder.LoadConfig(TestModels.TinyDirectory()));

    public async Task InitializeAsync()
    {
        var backend = new ChainCompletionBackend(Model, Tokenizer, () => new LocalBlockChain(Model), "tiny");
        _host = await GatewayHost.StartAsync([backend], options: Options, http2Port: 0, timeProvider: new ManualTimeProvider());
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    /// <summary>What <see cref="TextGenerator"/> gives locally for <paramref name="prompt"/>: the reference.</summary>
    public async Task<string> LocalTextAsync(string prompt, GenerationOptions options)
    {
        var result = await new TextGenerator(Model, new LocalBlockChain(Model)).GenerateAsync(Tokenizer.Encode(prompt), options);
        return Tokenizer.Decode(result.Tokens);
    }
}
