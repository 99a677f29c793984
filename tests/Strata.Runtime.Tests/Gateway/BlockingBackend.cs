using System.Runtime.CompilerServices;
using Strata.Runtime.Engine;
using Strata.Runtime.Gateway;
using Strata.Runtime.Tokenization;

namespace Strata.Runtime.Tests.Gateway;

/// <summary>A backend that yields one token ('A') and then waits until cancelled (or fails at once): for admission, deadline, disconnect and failure tests.</summary>
internal sealed class BlockingBackend(bool failAfterFirstToken = false) : ICompletionBackend
{
    private int _running;
    private int _cancelled;

    public string ModelId => "blocking";

    public ITextTokenizer Tokenizer { get; } = new ByteTokenizer();

    public IReadOnlyList<int> EndOfSequenceTokenIds => [];

    public int ContextLengthTokens => 0;

    /// <summary>Generations running now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Generations that ended by cancellation.</summary>
    public int Cancelled => Volatile.Read(ref _cancelled);

    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(IReadOnlyList<int> promptTokens, GenerationOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _running);
        try
        {
            yield return new GeneratedToken('A', null);
            if (failAfterFirstToken)
            {
                throw new InvalidOperationException("Block server 127.0.0.1:1 is gone.");
            }

            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref _cancelled);
                throw;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }
}
