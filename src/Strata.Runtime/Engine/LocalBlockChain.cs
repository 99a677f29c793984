using Strata.Core.Placement;

namespace Strata.Runtime.Engine;

/// <summary>The reference chain: every block in this process, one hop named <c>local</c>.</summary>
public sealed class LocalBlockChain : IBlockChain
{
    private readonly LlamaModel _model;

    /// <summary>Creates the chain over all blocks of <paramref name="model"/> (which must hold them all).</summary>
    public LocalBlockChain(LlamaModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Weights.Blocks != BlockRange.All(model.Config.LayerCount))
        {
            throw new ArgumentException("A local chain needs every block of the model loaded.", nameof(model));
        }

        _model = model;
        Route = [new RouteHop("local", BlockRange.All(model.Config.LayerCount))];
    }

    /// <inheritdoc/>
    public IReadOnlyList<RouteHop> Route { get; }

    /// <inheritdoc/>
    public IBlockChainSession OpenSession() => new Session(_model);

    private sealed class Session : IBlockChainSession
    {
        private readonly LlamaModel _model;
        private readonly InferenceSession _session;

        public Session(LlamaModel model)
        {
            _model = model;
            _session = model.CreateSession();
        }

        public ValueTask ForwardAsync(Memory<float> hidden, int tokens, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _model.ForwardBlocks(_session, 0, _model.Config.LayerCount, hidden, tokens);
            return ValueTask.CompletedTask;
        }

        public void Dispose()
        {
            // Nothing to release: the caches are ordinary arrays.
        }
    }
}
