using Strata.Runtime.Engine;

namespace Strata.Cli.Tests.Serve;

/// <summary>Wraps a chain and runs <paramref name="interrupt"/> once, just before the step after <paramref name="afterSteps"/> steps of a session.</summary>
internal sealed class InterruptingChain(IBlockChain inner, int afterSteps, Action interrupt) : IBlockChain
{
    public IReadOnlyList<RouteHop> Route => inner.Route;

    public IBlockChainSession OpenSession() => new Session(inner.OpenSession(), afterSteps, interrupt);

    private sealed class Session(IBlockChainSession inner, int afterSteps, Action interrupt) : IBlockChainSession
    {
        private int _steps;

        public ValueTask ForwardAsync(Memory<float> hidden, int tokens, CancellationToken cancellationToken)
        {
            if (_steps++ == afterSteps)
            {
                interrupt();
            }

            return inner.ForwardAsync(hidden, tokens, cancellationToken);
        }

        public void Dispose() => inner.Dispose();
    }
}
