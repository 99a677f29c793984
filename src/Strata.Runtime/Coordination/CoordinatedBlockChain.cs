using System.Collections.Concurrent;
using Strata.Core;
using Strata.Planning.Live;
using Strata.Runtime.Engine;
using Strata.Runtime.Serving;

namespace Strata.Runtime.Coordination;

/// <summary>
/// The swarm path of a client: asks the coordinator for a route for each session, streams hidden states through it, and
/// survives servers that die or fill up mid-generation by re-routing their blocks and replaying the session's inputs.
/// </summary>
/// <remarks>
/// The blocks of <see cref="CoordinatedChainOptions.ClientBlocks"/> run in this process (the split path); with
/// <see cref="CoordinatedChainOptions.PhaseSplit"/> the prompt runs on prefill-role servers and every block's KV cache
/// then moves to decode-role servers. Sessions of one chain may run concurrently.
/// </remarks>
public sealed partial class CoordinatedBlockChain : IBlockChain, IDisposable
{
    private readonly ConcurrentDictionary<string, BlockServerClient> _servers = new(StringComparer.Ordinal);
    private readonly string _sessionPrefix;
    private IReadOnlyList<RouteHop> _route = [];
    private int _failovers;
    private int _kvMoves;
    private int _busyRefusals;
    private int _nextSession;
    private readonly int[] _phasePlans = new int[3]; // by PhaseDecision

    /// <summary>Creates a chain for <paramref name="model"/> (which holds the embedding and head, and the client's blocks if any).</summary>
    /// <param name="coordinator">The coordinator to ask for routes.</param>
    /// <param name="model">The client's part of the model.</param>
    /// <param name="options">Phase split, client blocks, failover and back-off.</param>
    /// <param name="sessionPrefix">Prefix of session ids, unique per client (a fresh one by default).</param>
    /// <param name="timeProvider">Clock of the back-off waits and call deadlines (the system clock by default).</param>
    public CoordinatedBlockChain(CoordinatorClient coordinator, LlamaModel model, CoordinatedChainOptions? options = null, string? sessionPrefix = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(coordinator);
        ArgumentNullException.ThrowIfNull(model);
        Options = (options ?? new CoordinatedChainOptions()).Validate();
        var held = model.Weights.Blocks;
        if (Options.ClientBlocks is { Count: > 0 } blocks && !held.Contains(blocks))
        {
            throw new ArgumentException(
                $"The client should run blocks [{blocks.First}, {blocks.End}) but its model holds [{held.First}, {held.End}).", nameof(options));
        }

        Coordinator = coordinator;
        Model = model;
        TimeProvider = timeProvider ?? TimeProvider.System;
        _sessionPrefix = sessionPrefix ?? Guid.NewGuid().ToString("N")[..12];
    }

    /// <summary>The route of the latest session, as it stands now (after a failover: the final one).</summary>
    public IReadOnlyList<RouteHop> Route => Volatile.Read(ref _route);

    /// <summary>Failovers (re-routes after a dead or full server) over every session so far.</summary>
    public int Failovers => Volatile.Read(ref _failovers);

    /// <summary>Times a session was refused by a full server (RESOURCE_EXHAUSTED) and waited or went elsewhere, over every session so far; not failovers.</summary>
    public int BusyRefusals => Volatile.Read(ref _busyRefusals);

    /// <summary>Phase split: KV-cache moves started from a prefill server to a decode server (one per block range), over every session so far.</summary>
    public int KvMoves => Volatile.Read(ref _kvMoves);

    /// <summary>Phase split: block ranges planned with <paramref name="decision"/> (Splitwise's, by the coordinator) over every session so far; one per session unless the client runs blocks itself.</summary>
    public int PhasePlans(PhaseDecision decision) => Volatile.Read(ref _phasePlans[(int)decision]);

    internal CoordinatedChainOptions Options { get; }

    internal CoordinatorClient Coordinator { get; }

    internal LlamaModel Model { get; }

    internal TimeProvider TimeProvider { get; }

    /// <inheritdoc/>
    public IBlockChainSession OpenSession() => OpenSession(expectedTokens: 0);

    /// <inheritdoc/>
    public IBlockChainSession OpenSession(int expectedTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedTokens);
        return new CoordinatedSession(this, $"{_sessionPrefix}-{Interlocked.Increment(ref _nextSession)}", expectedTokens);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var client in _servers.Values)
        {
            client.Dispose();
        }

        _servers.Clear();
    }

    // Block servers are reached with the coordinator client's TLS settings: one trust configuration per client.
    internal BlockServerClient Server(Uri url) =>
        _servers.GetOrAdd(url.ToString(), _ => new BlockServerClient(url, deadline: Options.CallDeadline, timeProvider: TimeProvider, tls: Coordinator.Tls));

    internal void Publish(IReadOnlyList<RouteHop> route) => Volatile.Write(ref _route, route);

    internal void CountFailover() => Interlocked.Increment(ref _failovers);

    internal void CountKvMove() => Interlocked.Increment(ref _kvMoves);

    internal void CountPhasePlan(PhaseDecision decision) => Interlocked.Increment(ref _phasePlans[(int)decision]);

    internal void CountBusyRefusal() => Interlocked.Increment(ref _busyRefusals);

    internal static StrataException NoRoute(string detail) => new($"The swarm cannot serve this generation: {detail}");
}
