using Strata.Core.Placement;
using Strata.Runtime.Engine;

namespace Strata.Runtime.Serving;

/// <summary>A chain of block servers that together cover every block in order: the swarm path of a client.</summary>
public sealed class RemoteBlockChain : IBlockChain, IDisposable
{
    private readonly (BlockServerClient Client, RouteHop Hop)[] _hops;
    private readonly int _hiddenSize;
    private int _nextSession;

    /// <summary>Creates the chain; the hops must cover <c>[0, layerCount)</c> contiguously, in order.</summary>
    /// <param name="hops">Each hop's server address and block range.</param>
    /// <param name="layerCount">Blocks of the model.</param>
    /// <param name="hiddenSize">Width of a hidden state.</param>
    /// <param name="sessionPrefix">Prefix of session ids (each session appends a counter), unique per client.</param>
    public RemoteBlockChain(IReadOnlyList<(Uri Address, BlockRange Blocks)> hops, int layerCount, int hiddenSize, string sessionPrefix)
    {
        ArgumentNullException.ThrowIfNull(hops);
        ArgumentException.ThrowIfNullOrEmpty(sessionPrefix);
        var next = 0;
        foreach (var hop in hops)
        {
            if (hop.Blocks.First != next || hop.Blocks.Count < 1)
            {
                throw new ArgumentException($"Hop {hop.Address} covers [{hop.Blocks.First}, {hop.Blocks.End}) but the chain needs block {next} next.", nameof(hops));
            }

            next = hop.Blocks.End;
        }

        if (next != layerCount)
        {
            throw new ArgumentException($"The hops cover blocks [0, {next}) of {layerCount}.", nameof(hops));
        }

        _hops = [.. hops.Select(h => (new BlockServerClient(h.Address), new RouteHop(h.Address.ToString(), h.Blocks)))];
        _hiddenSize = hiddenSize;
        SessionPrefix = sessionPrefix;
        Route = [.. _hops.Select(h => h.Hop)];
    }

    /// <summary>Prefix of this chain's session ids.</summary>
    public string SessionPrefix { get; }

    /// <inheritdoc/>
    public IReadOnlyList<RouteHop> Route { get; }

    /// <inheritdoc/>
    public IBlockChainSession OpenSession() => new Session(this, $"{SessionPrefix}-{Interlocked.Increment(ref _nextSession)}");

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var (client, _) in _hops)
        {
            client.Dispose();
        }
    }

    private sealed class Session(RemoteBlockChain chain, string id) : IBlockChainSession
    {
        private int _position;

        public async ValueTask ForwardAsync(Memory<float> hidden, int tokens, CancellationToken cancellationToken)
        {
            foreach (var (client, hop) in chain._hops)
            {
                await client.ForwardAsync(id, hop.Blocks.First, hop.Blocks.Count, _position, hidden, tokens, chain._hiddenSize, cancellationToken).ConfigureAwait(false);
            }

            _position += tokens;
        }

        public void Dispose()
        {
            // Best effort: a server that is gone has freed the session already.
            foreach (var (client, _) in chain._hops)
            {
                try
                {
                    client.CloseSessionAsync(id).GetAwaiter().GetResult();
                }
                catch (Grpc.Core.RpcException)
                {
                }
            }
        }
    }
}
