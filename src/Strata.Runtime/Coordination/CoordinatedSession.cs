using Grpc.Core;
using Strata.Core.Placement;
using Strata.Runtime.Engine;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Coordination;

/// <summary>
/// One generation along a <see cref="CoordinatedBlockChain"/>: keeps the hidden-state inputs of every hop's first block
/// for every token (as PETALS clients do), so that when a hop fails its blocks can be re-routed and their KV caches
/// rebuilt by replaying those inputs.
/// </summary>
internal sealed partial class CoordinatedSession : IBlockChainSession, IAsyncDisposable
{
    private const string LocalServer = "local";

    private readonly CoordinatedBlockChain _chain;
    private readonly string _id;
    private readonly int _hiddenSize;
    private readonly HashSet<string> _dead = new(StringComparer.Ordinal);
    private readonly HashSet<string> _busy = new(StringComparer.Ordinal);
    private readonly Dictionary<int, List<float[]>> _inputs = []; // block -> chunks of (tokens, hidden) inputs, in order
    private readonly List<Task> _copies = [];
    private readonly HashSet<(SessionHop Hop, int Block)> _copied = []; // phase split: blocks whose KV move has started
    private List<SessionHop>? _hops;
    private List<SessionHop>? _decodeHops;
    private InferenceSession? _local;
    private int _position;
    private int _promptTokens;
    private int _failovers;
    private readonly int _expectedTokens;
    private TimeSpan _backoff;
    private TimeSpan _waited;
    private int _nextHop;
    private bool _decoding;
    private ServerRole? _pool; // phase split the plan kept on one chain (nothing moves): the pool the session runs and re-routes in

    public CoordinatedSession(CoordinatedBlockChain chain, string id, int expectedTokens = 0)
    {
        _chain = chain;
        _id = id;
        _expectedTokens = expectedTokens;
        _backoff = chain.Options.InitialBackoff;
        _hiddenSize = chain.Model.Config.HiddenSize;
    }

    private ServerRole Role => !_chain.Options.PhaseSplit ? ServerRole.Both : _pool ?? (_decoding ? ServerRole.Decode : ServerRole.Prefill);

    // Phase split, prompt not yet run, and the plan moves the KV cache to other servers afterwards.
    private bool Prefilling => _chain.Options.PhaseSplit && _pool is null && !_decoding;

    public async ValueTask ForwardAsync(Memory<float> hidden, int tokens, CancellationToken cancellationToken)
    {
        var width = tokens * _hiddenSize;
        if (_hops is null)
        {
            _promptTokens = Math.Max(_promptTokens, tokens);
            _hops = _chain.Options.PhaseSplit
                ? await PlanPhasesAsync(cancellationToken).ConfigureAwait(false)
                : await PlanAsync(Role, cancellationToken).ConfigureAwait(false);
            Publish();
        }

        var stepInput = hidden[..width].ToArray(); // (tokens, hidden)
        for (var i = 0; i < _hops.Count;)
        {
            var hop = _hops[i];
            var input = i == 0 ? stepInput : hidden[..width].ToArray(); // (tokens, hidden); the step's embeddings at the first hop, never written
            try
            {
                if (Prefilling)
                {
                    await RunPrefillHopAsync(hop, hidden, tokens, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await RunAsync(hop, _position, hidden, tokens, cancellationToken).ConfigureAwait(false);
                    await SpotCheckAsync(hop, input, hidden, tokens, cancellationToken).ConfigureAwait(false);
                }

                Record(hop.Blocks.First, input);

                i++;
            }
            catch (RpcException exception) when (!cancellationToken.IsCancellationRequested && IsRecoverable(exception.StatusCode))
            {
                await FailAsync(hop, exception).ConfigureAwait(false);
                if (RecordedTokens(hop.Blocks.First) >= _position)
                {
                    i = await ReplaceHopAsync(i, input, hidden, tokens, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    // No inputs recorded at this hop's first block (a phase-split decode hop starting mid-way through a
                    // prefill hop): rebuild the whole chain from the embeddings and run the step again.
                    await RebuildAllAsync(cancellationToken).ConfigureAwait(false);
                    stepInput.CopyTo(hidden);
                    i = 0;
                }
            }
        }

        _position += tokens;
        _backoff = _chain.Options.InitialBackoff; // the step ran: the next refusal starts the back-off afresh
        if (Prefilling)
        {
            await MoveToDecodeAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Closes the session on every server of its routes, all at once, each under a deadline.</summary>
    public async ValueTask DisposeAsync()
    {
        var hops = (_hops ?? []).Concat(_decodeHops ?? []).Distinct(); // a hop the plan kept for decoding is in both
        await CloseAllAsync(hops).ConfigureAwait(false);
        await CloseShadowsAsync().ConfigureAwait(false);
    }

    private static bool IsRecoverable(StatusCode code) => code is StatusCode.Unavailable or StatusCode.ResourceExhausted or StatusCode.DeadlineExceeded
        or StatusCode.FailedPrecondition or StatusCode.NotFound or StatusCode.Internal or StatusCode.Unknown or StatusCode.Aborted
        or StatusCode.Cancelled // only when our own token is not cancelled: a server that stopped mid-call
        or StatusCode.DataLoss; // a reply the client rejected (non-finite, outside the envelope, outvoted by replicas)

    private async Task RunAsync(SessionHop hop, int startPosition, Memory<float> hidden, int tokens, CancellationToken cancellationToken)
    {
        if (hop.IsLocal)
        {
            _local ??= _chain.Model.CreateSession();
            _local.Truncate(startPosition);
            _chain.Model.ForwardBlocks(_local, hop.Blocks.First, hop.Blocks.Count, hidden, tokens);
            return;
        }

        await _chain.Server(hop.Url!).ForwardAsync(hop.SessionId, hop.Blocks.First, hop.Blocks.Count, startPosition, hidden, tokens, _hiddenSize, cancellationToken, ExpectedTokens)
            .ConfigureAwait(false);
        CheckReply(hop, hidden.Span, tokens);
    }

    // Phase-split prefill of one hop, streamed layer by layer: the server reports each block as it finishes, with an offer
    // of a copy of that block's KV cache, and the decode server holding the block pulls it at once, while the prefill
    // server computes the next block. One call per hop, as without streaming.
    private async Task RunPrefillHopAsync(SessionHop hop, Memory<float> hidden, int tokens, CancellationToken cancellationToken)
    {
        if (hop.IsLocal || _decodeHops is null || !_chain.Options.StreamKvByBlock || _decodeHops.Contains(hop))
        {
            await RunAsync(hop, _position, hidden, tokens, cancellationToken).ConfigureAwait(false);
            StartCopies(hop, hop.Blocks, cancellationToken);
            return;
        }

        // Offers only where every decode server of the hop's blocks may pull them: an unpulled copy holds memory until it expires.
        var source = _chain.Server(hop.Url!);
        var offerKv = _decodeHops.Where(t => !t.IsLocal && t.Blocks.Overlaps(hop.Blocks))
            .All(t => source.CanPullFromHere(_chain.Server(t.Url!)));
        await source.ForwardStreamingAsync(hop.SessionId, hop.Blocks.First, hop.Blocks.Count, _position, hidden, tokens, _hiddenSize, offerKv,
            (block, offer) => StartBlockMove(hop, block, offer, cancellationToken), cancellationToken).ConfigureAwait(false);
        CheckReply(hop, hidden.Span, tokens);
    }

    // A streamed prefill block is done: its decode server pulls the offered copy, or (no offer, or the pull is refused)
    // the block moves like any other.
    private void StartBlockMove(SessionHop source, int block, OfferKvReply? offer, CancellationToken cancellationToken)
    {
        var target = _decodeHops!.FirstOrDefault(t => !t.IsLocal && t.Blocks.Contains(block));
        if (target is null || !_copied.Add((source, block)))
        {
            return;
        }

        _chain.CountKvMove();
        _copies.Add(MoveBlockAsync(source, target, block, offer, cancellationToken));
    }

    // A pull that fails (the offer expired while the decode session was busy, a connection refused under load) is retried
    // once from the live prefill session before it counts as a failure (which rebuilds the whole decode chain).
    private async Task MoveBlockAsync(SessionHop source, SessionHop target, int block, OfferKvReply? offer, CancellationToken cancellationToken)
    {
        var from = _chain.Server(source.Url!);
        var to = _chain.Server(target.Url!);
        if (offer is { BulkPort: > 0 })
        {
            try
            {
                if (await from.PullOfferAsync(offer, to, target.SessionId, cancellationToken).ConfigureAwait(false) is not null)
                {
                    return;
                }
            }
            catch (RpcException exception) when (!cancellationToken.IsCancellationRequested && exception.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Aborted)
            {
                // fall through to a move from the live session
            }
        }

        await from.CopyKvToAsync(source.SessionId, block, 1, to, target.SessionId, cancellationToken).ConfigureAwait(false);
    }

    // The blocks of a failed hop go to a new route; the new servers replay every past input, then run this step.
    private async Task<int> ReplaceHopAsync(int index, float[] input, Memory<float> hidden, int tokens, CancellationToken cancellationToken)
    {
        var failed = _hops![index];
        var past = Past(failed.Blocks.First); // (position, hidden)
        var rows = _position + tokens;
        while (true)
        {
            var replacement = await RouteAsync(failed.Blocks, Role, cancellationToken).ConfigureAwait(false);
            var combined = new float[rows * _hiddenSize]; // (position + tokens, hidden)
            past.CopyTo(combined, 0);
            input.CopyTo(combined, past.Length);
            var recorded = new List<(int Block, float[] Input)>();
            try
            {
                foreach (var hop in replacement)
                {
                    recorded.Add((hop.Blocks.First, (float[])combined.Clone()));
                    await RunAsync(hop, 0, combined, rows, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (RpcException exception) when (!cancellationToken.IsCancellationRequested && IsRecoverable(exception.StatusCode))
            {
                // Every replacement hop that was called holds a session, the failed one included: close them before
                // FailAsync, which throws once the failovers run out.
                await CloseAllAsync(replacement.Take(recorded.Count)).ConfigureAwait(false);
                await FailAsync(replacement[recorded.Count - 1], exception).ConfigureAwait(false);
                continue;
            }

            foreach (var (block, recordedInput) in recorded)
            {
                _inputs[block] = [recordedInput];
            }

            combined.AsSpan(_position * _hiddenSize, tokens * _hiddenSize).CopyTo(hidden.Span);
            _hops.RemoveAt(index);
            _hops.InsertRange(index, replacement);
            Publish();
            return index + replacement.Count;
        }
    }

    // Re-plans every hop for the current role and replays every past token from the embeddings.
    private async Task RebuildAllAsync(CancellationToken cancellationToken)
    {
        var past = Past(0); // (position, hidden)
        while (true)
        {
            await CloseAllAsync(_hops!).ConfigureAwait(false);
            _hops = await PlanAsync(Role, cancellationToken).ConfigureAwait(false);
            if (_pool is not null)
            {
                _decodeHops = _hops; // a session kept on one pool is re-routed there, still without moves
            }

            Publish();
            _inputs.Clear();
            if (_position == 0)
            {
                return;
            }

            var buffer = (float[])past.Clone();
            var done = 0;
            try
            {
                foreach (var hop in _hops)
                {
                    Record(hop.Blocks.First, (float[])buffer.Clone());
                    await RunAsync(hop, 0, buffer, _position, cancellationToken).ConfigureAwait(false);
                    done++;
                }

                return;
            }
            catch (RpcException exception) when (!cancellationToken.IsCancellationRequested && IsRecoverable(exception.StatusCode))
            {
                await FailAsync(_hops[done], exception).ConfigureAwait(false);
                _inputs.Clear();
                _inputs[0] = [past];
            }
        }
    }

    // Phase split: starts moving the KV caches of finished prefill blocks of a hop to the decode servers that will hold
    // those blocks, while prefill goes on; a block whose move has started is skipped, and a hop the plan keeps for
    // decoding (its range not split) moves nothing.
    private void StartCopies(SessionHop source, BlockRange blocks, CancellationToken cancellationToken)
    {
        if (source.IsLocal || _decodeHops is null || _decodeHops.Contains(source))
        {
            return;
        }

        for (var block = blocks.First; block < blocks.End;)
        {
            if (!_copied.Add((source, block)))
            {
                block++;
                continue;
            }

            var end = block + 1; // a run of blocks not yet moving, all started here
            while (end < blocks.End && _copied.Add((source, end)))
            {
                end++;
            }

            var run = BlockRange.FromBounds(block, end);
            foreach (var target in _decodeHops.Where(t => !t.IsLocal && t.Blocks.Overlaps(run)))
            {
                var shared = run.Intersect(target.Blocks);
                _chain.CountKvMove();
                _copies.Add(_chain.Server(source.Url!).CopyKvToAsync(source.SessionId, shared.First, shared.Count, _chain.Server(target.Url!), target.SessionId, cancellationToken));
            }

            block = end;
        }
    }

    // Phase split, after the prefill step: the remaining copies finish, the prefill sessions close, decoding continues on the decode servers.
    private async Task MoveToDecodeAsync(CancellationToken cancellationToken)
    {
        _decoding = true;
        var prefill = _hops!;
        foreach (var hop in prefill)
        {
            StartCopies(hop, hop.Blocks, cancellationToken);
        }

        try
        {
            await Task.WhenAll(_copies).ConfigureAwait(false);
        }
        catch (RpcException exception) when (!cancellationToken.IsCancellationRequested && IsRecoverable(exception.StatusCode))
        {
            // A server died during the move: rebuild the decode chain from the recorded inputs instead.
            _failovers++;
            _chain.CountFailover();
            await CloseAllAsync(_decodeHops!.Where(h => !h.IsLocal)).ConfigureAwait(false);
            await RebuildAllAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        finally
        {
            _copies.Clear();
        }

        await CloseAllAsync(prefill.Where(h => !h.IsLocal && !_decodeHops!.Contains(h))).ConfigureAwait(false);
        _hops = _decodeHops!;
        Publish();
    }

    private async Task<List<SessionHop>> PlanAsync(ServerRole role, CancellationToken cancellationToken)
    {
        var hops = new List<SessionHop>();
        foreach (var (blocks, local) in Segments())
        {
            hops.AddRange(local ? [new SessionHop(LocalServer, null, blocks, _id)] : await RouteAsync(blocks, role, cancellationToken).ConfigureAwait(false));
        }

        return hops;
    }

    // Phase split: the coordinator plans each remote range (both pools, Splitwise's decision). A range it splits gets
    // prefill hops and other decode hops, whose KV caches move after the prompt; a range it keeps on one chain (the
    // prefill pool decodes it, or the decode pool runs it whole) uses the same hops for both, and moves nothing. When no
    // range splits, the session runs as a whole-generation session on its chains, re-routed in their pool on failure.
    private async Task<List<SessionHop>> PlanPhasesAsync(CancellationToken cancellationToken)
    {
        var prefill = new List<SessionHop>();
        var decode = new List<SessionHop>();
        var kept = new HashSet<ServerRole>();
        var splits = false;
        foreach (var (blocks, local) in Segments())
        {
            if (local)
            {
                var hop = new SessionHop(LocalServer, null, blocks, _id);
                prefill.Add(hop);
                decode.Add(hop);
                continue;
            }

            var plan = await CallRouteAsync(blocks, ServerRole.Prefill, r => _chain.Coordinator.PlanPhasesAsync(r, cancellationToken), cancellationToken).ConfigureAwait(false);
            var decision = PhaseDecisions.FromWire(plan.Decision, blocks);
            _chain.CountPhasePlan(decision);
            var hops = Hops(plan.Prefill);
            prefill.AddRange(hops);
            if (decision == Planning.Live.PhaseDecision.Split)
            {
                splits = true;
                decode.AddRange(Hops(plan.Decode));
            }
            else
            {
                decode.AddRange(hops);
                kept.Add(decision == Planning.Live.PhaseDecision.PromptDecodes ? ServerRole.Prefill : ServerRole.Decode);
            }
        }

        _decodeHops = splits ? decode : prefill;
        _pool = splits ? null : kept.Count == 1 ? kept.Single() : ServerRole.Both;
        return prefill;
    }

    // The session's blocks in order: the remote ranges and, on the split path, the client's own.
    private IEnumerable<(BlockRange Blocks, bool Local)> Segments()
    {
        var layers = _chain.Model.Config.LayerCount;
        if (_chain.Options.ClientBlocks is not { Count: > 0 } local)
        {
            yield return (BlockRange.All(layers), false);
            yield break;
        }

        if (local.First > 0)
        {
            yield return (BlockRange.FromBounds(0, local.First), false);
        }

        yield return (local, true);
        if (local.End < layers)
        {
            yield return (BlockRange.FromBounds(local.End, layers), false);
        }
    }

    private List<SessionHop> Hops(RouteReply reply) =>
        [.. reply.Hops.Select(h => new SessionHop(h.ServerId, new Uri(h.Url), new BlockRange(h.FirstBlock, h.BlockCount), $"{_id}-{++_nextHop}"))];

    private async Task<List<SessionHop>> RouteAsync(BlockRange blocks, ServerRole role, CancellationToken cancellationToken) =>
        Hops(await CallRouteAsync(blocks, role, r => _chain.Coordinator.RouteAsync(r, cancellationToken), cancellationToken).ConfigureAwait(false));

    // Asks the coordinator about blocks (a route, or a phase plan) for this session, waiting while only full servers could serve.
    private async Task<TReply> CallRouteAsync<TReply>(BlockRange blocks, ServerRole role, Func<RouteRequest, Task<TReply>> call, CancellationToken cancellationToken)
    {
        var config = _chain.Model.Config;
        while (true)
        {
            var request = new RouteRequest
            {
                ModelName = config.Architecture.Name,
                LayerCount = config.LayerCount,
                FirstBlock = blocks.First,
                EndBlock = blocks.End,
                Role = role,
                KvBytesPerBlock = 2L * Math.Max(1, Math.Max(_position, Math.Max(ExpectedTokens, _promptTokens + _chain.Options.ExpectedOutputTokens))) * config.KeyValueDimension * sizeof(float),
                Routing = _chain.Options.Routing ?? string.Empty,
                PromptTokens = Math.Max(1, _promptTokens),
                OutputTokens = Math.Max(1, _chain.Options.ExpectedOutputTokens),
            };
            request.ExcludedServerIds.Add(_dead.Concat(_busy));
            try
            {
                if (_chain.Options.MeasureRtts)
                {
                    var live = await _chain.Coordinator.ListServersAsync(cancellationToken).ConfigureAwait(false);
                    await _chain.MeasureRttsAsync(live.Where(s => !_dead.Contains(s.ServerId)), cancellationToken).ConfigureAwait(false);
                    request.RttSeconds.Add(_chain.RttSeconds.Where(r => live.Any(s => s.ServerId == r.Key)).ToDictionary());
                }

                return await call(request).ConfigureAwait(false);
            }
            catch (RpcException exception) when (exception.StatusCode == StatusCode.Unavailable && _busy.Count > 0 && !cancellationToken.IsCancellationRequested)
            {
                // Only full servers could serve: wait for them to free memory (within the caller's deadline and
                // MaxBusyWait), then try them again. The back-off grows with each refusal in a row, so that a crowd of
                // waiting sessions polls less the longer the servers stay full.
                if (_waited + _backoff > _chain.Options.MaxBusyWait)
                {
                    throw CoordinatedBlockChain.NoRoute(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"every server for blocks [{blocks.First}, {blocks.End}) stayed full (KV budget or session limit) for {_waited.TotalSeconds:0.#} s, past the wait limit of {_chain.Options.MaxBusyWait.TotalSeconds:0.#} s; retry later or add servers"));
                }

                await Task.Delay(_backoff, _chain.TimeProvider, cancellationToken).ConfigureAwait(false);
                _waited += _backoff;
                _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, _chain.Options.MaxBackoff.Ticks));
                _busy.Clear();
            }
            catch (RpcException exception)
            {
                throw CoordinatedBlockChain.NoRoute($"the coordinator at {_chain.Coordinator.Address} answered {exception.StatusCode}: {exception.Status.Detail}{RejectionNote()}");
            }
        }
    }

    private async Task FailAsync(SessionHop hop, RpcException exception)
    {
        if (exception.StatusCode == StatusCode.DataLoss)
        {
            await RejectAsync(hop, exception.Status.Detail).ConfigureAwait(false);
        }

        if (exception.StatusCode == StatusCode.ResourceExhausted)
        {
            // A full server is no failure: the session waits its turn (RouteAsync backs off once every server is full).
            _chain.CountBusyRefusal();
            _busy.Add(hop.ServerId);
            // Free what the session holds there, so that the server's memory goes to others while we wait.
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _chain.Server(hop.Url!).CloseSessionAsync(hop.SessionId, timeout.Token).ConfigureAwait(false);
            }
            catch (RpcException)
            {
            }
        }
        else
        {
            _failovers++;
            _chain.CountFailover();
            if (_failovers > _chain.Options.MaxFailovers)
            {
                throw CoordinatedBlockChain.NoRoute(
                    $"gave up after {_failovers - 1} failovers; server {hop.ServerId} answered {exception.StatusCode}: {exception.Status.Detail}{RejectionNote()}");
            }

            _dead.Add(hop.ServerId);
        }
    }

    // Tokens the session will hold in all, as the servers should size their caches: what the generator said, else the
    // prompt plus the output the options expect, else 0 (unknown: the caches grow as needed).
    private int ExpectedTokens => _expectedTokens > 0 ? _expectedTokens
        : _chain.Options.ExpectedOutputTokens > 0 && _promptTokens > 0 ? _promptTokens + _chain.Options.ExpectedOutputTokens : 0;

    private void Record(int block, float[] input)
    {
        if (!_inputs.TryGetValue(block, out var chunks))
        {
            _inputs[block] = chunks = [];
        }

        chunks.Add(input);
    }

    private int RecordedTokens(int block) => _inputs.TryGetValue(block, out var chunks) ? chunks.Sum(c => c.Length) / _hiddenSize : 0;

    // The recorded inputs of block's first _position tokens, (position, hidden).
    private float[] Past(int block)
    {
        var past = new float[_position * _hiddenSize];
        var at = 0;
        foreach (var chunk in _inputs.GetValueOrDefault(block) ?? [])
        {
            var take = Math.Min(chunk.Length, past.Length - at);
            chunk.AsSpan(0, take).CopyTo(past.AsSpan(at));
            at += take;
        }

        return past;
    }

    private void Publish() => _chain.Publish([.. _hops!.Select(h => new RouteHop(h.IsLocal ? LocalServer : h.Url!.ToString(), h.Blocks))]);

    private async Task CloseAllAsync(IEnumerable<SessionHop> hops)
    {
        // Best effort, on every server, those marked dead included: one that only timed out (or lied) still holds the
        // session's memory. A server that is gone refuses at once; one that missed the close frees it when idle.
        await Task.WhenAll(hops.Where(h => !h.IsLocal).Select(async hop =>
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(_dead.Contains(hop.ServerId) ? 2 : 10));
                await _chain.Server(hop.Url!).CloseSessionAsync(hop.SessionId, timeout.Token).ConfigureAwait(false);
            }
            catch (RpcException)
            {
            }
        })).ConfigureAwait(false);
    }
}
