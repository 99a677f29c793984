using Strata.Runtime.Engine;

namespace Strata.Runtime.Tests.Coordination;

/// <summary>Wraps a chain and runs <paramref name="interrupt"/> once, just before the step after <paramref name="afterSteps"/> steps of a session (to kill a server mid-generation).</summary>
internal sealed class InterruptingChain(IBlockChain inner, int afterSteps, Func<Task> interrupt) : IBlockChain
{
    public IReadOnlyList<RouteHop> Route => inner.Route;

    public IBlockChainSession OpenSession() => new Session(inner.OpenSession(), afterSteps, interrupt);

    private sealed class Session(IBlockChainSession inner, int afterSteps, Func<Task> interrupt) : IBlockChainSession
    {
        private int _steps;

        public async ValueTask ForwardAsync(Memory<float> hidden, int tokens, CancellationToken cancellationToken)
        {
            if (_steps++ == afterSteps)
            {
                await interrupt();
            }

            await inner.ForwardAsync(hidden, tokens, cancellationToken);
        }

        public void Dispose() => inner.Dispose();
    }
}
