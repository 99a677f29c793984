namespace Strata.Runtime.Engine;

/// <summary>One generation's state along an <see cref="IBlockChain"/>.</summary>
public interface IBlockChainSession : IDisposable
{
    /// <summary>Runs every block on the hidden states of new tokens, in place.</summary>
    /// <param name="hidden">Hidden states, <c>(tokens, hidden)</c>: embeddings in, output of the last block out.</param>
    /// <param name="tokens">Number of new tokens.</param>
    /// <param name="cancellationToken">Cancels the step.</param>
    ValueTask ForwardAsync(Memory<float> hidden, int tokens, CancellationToken cancellationToken);
}
