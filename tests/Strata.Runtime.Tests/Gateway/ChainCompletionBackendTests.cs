using Strata.Runtime.Engine;
using Strata.Runtime.Gateway;
using Strata.Runtime.Tokenization;

namespace Strata.Runtime.Tests.Gateway;

public sealed class ChainCompletionBackendTests
{
    private static readonly int[] Prompt = [72, 105];

    [Fact]
    public async Task Streams_the_tokens_of_TextGenerator_and_gets_a_chain_per_request()
    {
        var model = TestModels.Tiny();
        var chains = 0;
        var backend = new ChainCompletionBackend(model, new ByteTokenizer(), () => { chains++; return new LocalBlockChain(model); }, "tiny");
        var options = new GenerationOptions { MaxNewTokens = 9 };

        var first = await ToListAsync(backend.GenerateAsync(Prompt, options, CancellationToken.None));
        var second = await ToListAsync(backend.GenerateAsync(Prompt, options, CancellationToken.None));

        var expected = (await new TextGenerator(model, new LocalBlockChain(model)).GenerateAsync(Prompt, options)).Tokens;
        Assert.Equal(expected, first);
        Assert.Equal(expected, second);
        Assert.Equal(2, chains);
    }

    [Fact]
    public async Task Stopping_early_ends_the_generation_and_disposes_the_chain()
    {
        var model = TestModels.Tiny();
        var chain = new DisposableChain(new LocalBlockChain(model));
        var backend = new ChainCompletionBackend(model, new ByteTokenizer(), () => chain, "tiny");
        var taken = new List<int>();

        await foreach (var token in backend.GenerateAsync(Prompt, new GenerationOptions { MaxNewTokens = 64 }, CancellationToken.None))
        {
            taken.Add(token.TokenId);
            if (taken.Count == 3)
            {
                break;
            }
        }

        Assert.Equal(3, taken.Count);
        Assert.True(chain.Disposed);
    }

    private static async Task<List<int>> ToListAsync(IAsyncEnumerable<GeneratedToken> tokens)
    {
        var list = new List<int>();
        await foreach (var token in tokens)
        {
            Assert.Null(token.Logprobs); // not asked for, not computed
            list.Add(token.TokenId);
        }

        return list;
    }

    private sealed class DisposableChain(IBlockChain inner) : IBlockChain, IDisposable
    {
        public bool Disposed { get; private set; }

        public IReadOnlyList<RouteHop> Route => inner.Route;

        public IBlockChainSession OpenSession() => inner.OpenSession();

        public void Dispose() => Disposed = true;
    }
}
