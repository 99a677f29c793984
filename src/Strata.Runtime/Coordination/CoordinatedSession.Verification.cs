using Grpc.Core;
using Strata.Core.Placement;
using Strata.Runtime.Protocol;
using Strata.Runtime.Sampling;

namespace Strata.Runtime.Coordination;

/// <summary>
/// Trust nobody on the wire: every reply is checked against the activation envelope, and a random fraction of steps is
/// run again on another replica of the same blocks (a spot check) and compared; a third replica or the client's own
/// weights decide a mismatch, and the liar is reported to the coordinator.
/// </summary>
internal sealed partial class CoordinatedSession
{
    private readonly List<string> _rejections = [];
    private readonly Dictionary<BlockRange, ShadowRoute> _shadows = [];
    private readonly List<Task> _closing = []; // closes of dropped replica routes, awaited when the session ends
    private DeterministicRandom? _verifyRandom;

    // A replica route kept in step with a hop for spot checks: its sessions hold the KV caches of the first Cached tokens.
    private sealed class ShadowRoute(List<SessionHop> hops)
    {
        public List<SessionHop> Hops { get; } = hops;

        public int Cached { get; set; }
    }

    // Rejects a reply outside the activation envelope (all-zero, huge, wrong scale) as a failed hop (DATA_LOSS).
    private void CheckReply(SessionHop hop, ReadOnlySpan<float> hidden, int rows)
    {
        var reason = _chain.Envelope.Explain(hidden, rows, _hiddenSize, hop.Blocks.End);
        if (reason is not null)
        {
            throw new RpcException(new Status(StatusCode.DataLoss,
                $"Server {hop.ServerId} ({hop.Url}) answered blocks [{hop.Blocks.First}, {hop.Blocks.End}) with {reason} ({_chain.Envelope.Source}); its reply was rejected."));
        }
    }

    // A rejected reply: remembered for the error message, counted, and reported to the coordinator (best effort).
    private async Task RejectAsync(SessionHop hop, string detail)
    {
        _rejections.Add($"{hop.ServerId} ({hop.Url}): {detail}");
        _chain.CountRejectedReply();
        await ReportAsync(hop.ServerId, detail, hop.Blocks).ConfigureAwait(false);
    }

    private async Task ReportAsync(string serverId, string reason, BlockRange blocks)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _chain.Coordinator.ReportServerAsync(new ReportServerRequest
            {
                ServerId = serverId,
                Reason = reason.Length <= 1024 ? reason : reason[..1024],
                FirstBlock = blocks.First,
                BlockCount = blocks.Count,
            }, timeout.Token).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // The coordinator is down or refuses: the session still excludes the liar itself.
        }
        catch (OperationCanceledException)
        {
        }
    }

    private string RejectionNote() => _rejections.Count == 0 ? string.Empty : $" Rejected replies: {string.Join("; ", _rejections.Distinct(StringComparer.Ordinal))}";

    // With probability VerifyFraction, runs the step just run on hop again on a replica (or locally) and compares.
    // Throws DATA_LOSS when hop's server is found lying (the caller fails over), ABORTED when two replicas disagree and
    // nothing can decide; returns otherwise (a lying verifier is reported and dropped).
    private async Task SpotCheckAsync(SessionHop hop, float[] input, Memory<float> hidden, int tokens, CancellationToken cancellationToken)
    {
        var fraction = _chain.Options.VerifyFraction;
        if (hop.IsLocal || !(fraction > 0))
        {
            return;
        }

        _verifyRandom ??= new DeterministicRandom(_chain.VerifySeedFor(_id));
        if (_verifyRandom.NextDouble() >= fraction)
        {
            return;
        }

        if (RecordedTokens(hop.Blocks.First) < _position)
        {
            _chain.CountSpotCheckSkipped(); // the route changed mid-session: this block's past inputs are not all here
            return;
        }

        var width = tokens * _hiddenSize;
        var primary = hidden[..width].ToArray(); // (tokens, hidden)
        var (second, verifier) = await RunOnReplicaAsync(hop, input, tokens, cancellationToken).ConfigureAwait(false);
        if (second is null)
        {
            _chain.CountSpotCheckSkipped();
            return;
        }

        _chain.CountSpotCheck();
        if (Agrees(primary, second, tokens))
        {
            return;
        }

        // A mismatch: the client's own weights, or a third replica, decide.
        var verifierName = verifier is null ? LocalServer : string.Join("+", verifier.Hops.Select(h => h.ServerId));
        var judge = await JudgeAsync(hop, input, tokens, verifier, cancellationToken).ConfigureAwait(false);
        if (judge is null)
        {
            DropShadow(hop);
            _dead.Add(hop.ServerId);
            foreach (var h in verifier?.Hops ?? [])
            {
                _dead.Add(h.ServerId);
            }

            var undecided = $"Servers {hop.ServerId} and {verifierName} disagree on blocks [{hop.Blocks.First}, {hop.Blocks.End}) (relative RMS difference {Difference(primary, second, tokens):G3}) and no third replica or local weights can decide; both are avoided for this generation.";
            _rejections.Add(undecided);
            throw new RpcException(new Status(StatusCode.Aborted, undecided));
        }

        if (verifier is not null && !Agrees(second, judge, tokens))
        {
            _chain.CountLiarCaught();
            DropShadow(hop);
            foreach (var h in verifier.Hops)
            {
                _dead.Add(h.ServerId);
            }

            if (verifier.Hops.Count == 1)
            {
                var liar = verifier.Hops[0];
                await RejectAsync(liar, $"a spot check of blocks [{hop.Blocks.First}, {hop.Blocks.End}): its output differs from two others' (max relative RMS difference {Difference(second, judge, tokens):G3})")
                    .ConfigureAwait(false);
            }
        }

        if (!Agrees(primary, judge, tokens))
        {
            _chain.CountLiarCaught();
            throw new RpcException(new Status(StatusCode.DataLoss,
                $"Server {hop.ServerId} ({hop.Url}) answered blocks [{hop.Blocks.First}, {hop.Blocks.End}) differently from replicas {verifierName} and a judge (max relative RMS difference {Difference(primary, judge, tokens):G3}); its reply was rejected by a spot check."));
        }
    }

    // The step on a replica route kept in step with hop (opened on first use and fed every past input since), or on
    // the client's own weights when no replica is free; (null, null) when neither can run it.
    private async Task<(float[]? Output, ShadowRoute? Verifier)> RunOnReplicaAsync(SessionHop hop, float[] input, int tokens, CancellationToken cancellationToken)
    {
        var key = hop.Blocks;
        if (!_shadows.TryGetValue(key, out var shadow) || shadow.Hops.Any(h => h.ServerId == hop.ServerId || _dead.Contains(h.ServerId)))
        {
            if (shadow is not null)
            {
                DropShadow(hop);
            }

            var route = await ReplicaRouteAsync(hop, [hop.ServerId], cancellationToken).ConfigureAwait(false);
            if (route is null)
            {
                return (RunLocally(hop, input, tokens), null);
            }

            _shadows[key] = shadow = new ShadowRoute(route);
        }

        var from = shadow.Cached;
        var buffer = Rows(hop.Blocks.First, from, input); // (position + tokens - from, hidden)
        var rows = _position + tokens - from;
        try
        {
            foreach (var h in shadow.Hops)
            {
                await RunAsync(h, from, buffer, rows, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RpcException exception) when (!cancellationToken.IsCancellationRequested && IsRecoverable(exception.StatusCode))
        {
            // The verifier failed (or was rejected by the envelope): no check this step; it is avoided from now on.
            var failed = shadow.Hops.FirstOrDefault(h => exception.Status.Detail.Contains(h.ServerId, StringComparison.Ordinal)) ?? shadow.Hops[0];
            if (exception.StatusCode == StatusCode.DataLoss)
            {
                await RejectAsync(failed, exception.Status.Detail).ConfigureAwait(false);
            }

            foreach (var h in shadow.Hops)
            {
                _dead.Add(h.ServerId);
            }

            DropShadow(hop);
            return (null, null);
        }

        shadow.Cached = _position + tokens;
        return (buffer.AsSpan((rows - tokens) * _hiddenSize, tokens * _hiddenSize).ToArray(), shadow);
    }

    // A third opinion: the client's own weights when it holds the blocks, else a fresh replica route (not hop's server,
    // not the verifier's) fed the whole past; null when there is none.
    private async Task<float[]?> JudgeAsync(SessionHop hop, float[] input, int tokens, ShadowRoute? verifier, CancellationToken cancellationToken)
    {
        if (RunLocally(hop, input, tokens) is { } local)
        {
            return local;
        }

        var excluded = new List<string> { hop.ServerId };
        excluded.AddRange(verifier?.Hops.Select(h => h.ServerId) ?? []);
        var route = await ReplicaRouteAsync(hop, excluded, cancellationToken).ConfigureAwait(false);
        if (route is null)
        {
            return null;
        }

        var buffer = Rows(hop.Blocks.First, 0, input);
        var rows = _position + tokens;
        try
        {
            foreach (var h in route)
            {
                await RunAsync(h, 0, buffer, rows, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RpcException exception) when (!cancellationToken.IsCancellationRequested && IsRecoverable(exception.StatusCode))
        {
            foreach (var h in route)
            {
                _dead.Add(h.ServerId);
            }

            return null;
        }
        finally
        {
            await CloseAllAsync(route).ConfigureAwait(false);
        }

        return buffer.AsSpan((rows - tokens) * _hiddenSize, tokens * _hiddenSize).ToArray();
    }

    // The step on the client's own weights, replaying the past in one chunk (bit-identical to step by step); null when
    // the client does not hold every block of the hop.
    private float[]? RunLocally(SessionHop hop, float[] input, int tokens)
    {
        var weights = _chain.Model.Weights;
        if (!weights.HoldsBlock(hop.Blocks.First) || !weights.HoldsBlock(hop.Blocks.End - 1))
        {
            return null;
        }

        var buffer = Rows(hop.Blocks.First, 0, input);
        var rows = _position + tokens;
        _chain.Model.ForwardBlocks(_chain.Model.CreateSession(), hop.Blocks.First, hop.Blocks.Count, buffer, rows);
        return buffer.AsSpan((rows - tokens) * _hiddenSize, tokens * _hiddenSize).ToArray();
    }

    // A route over hop's blocks avoiding excluded servers and those this session found dead; null when there is none.
    private async Task<List<SessionHop>?> ReplicaRouteAsync(SessionHop hop, IEnumerable<string> excluded, CancellationToken cancellationToken)
    {
        var config = _chain.Model.Config;
        var request = new RouteRequest
        {
            ModelName = config.Architecture.Name,
            LayerCount = config.LayerCount,
            FirstBlock = hop.Blocks.First,
            EndBlock = hop.Blocks.End,
            Role = Role,
            KvBytesPerBlock = 2L * Math.Max(1, _position) * config.KeyValueDimension * sizeof(float),
        };
        request.ExcludedServerIds.Add(excluded.Concat(_dead).Distinct(StringComparer.Ordinal));
        try
        {
            var reply = await _chain.Coordinator.RouteAsync(request, cancellationToken).ConfigureAwait(false);
            return [.. reply.Hops.Select(h => new SessionHop(h.ServerId, new Uri(h.Url), new BlockRange(h.FirstBlock, h.BlockCount), $"{_id}-v{++_nextHop}"))];
        }
        catch (RpcException exception) when (exception.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    // Recorded inputs of block's tokens [from, position) followed by this step's input, (position + tokens - from, hidden).
    private float[] Rows(int block, int from, float[] input)
    {
        var past = Past(block);
        var rows = new float[past.Length - (from * _hiddenSize) + input.Length];
        past.AsSpan(from * _hiddenSize).CopyTo(rows);
        input.CopyTo(rows, past.Length - (from * _hiddenSize));
        return rows;
    }

    private bool Agrees(float[] a, float[] b, int tokens) => Difference(a, b, tokens) <= _chain.Options.VerifyTolerance;

    // Largest over tokens of RMS(a - b) / max(RMS(b), tiny): 0 for bit-identical replies.
    private double Difference(float[] a, float[] b, int tokens)
    {
        var worst = 0.0;
        for (var t = 0; t < tokens; t++)
        {
            var sumDiff = 0.0;
            var sumRef = 0.0;
            for (var j = t * _hiddenSize; j < (t + 1) * _hiddenSize; j++)
            {
                var d = (double)a[j] - b[j];
                sumDiff += d * d;
                sumRef += (double)b[j] * b[j];
            }

            var relative = Math.Sqrt(sumDiff) / Math.Max(Math.Sqrt(sumRef), 1e-30);
            worst = double.IsNaN(relative) ? double.PositiveInfinity : Math.Max(worst, relative);
        }

        return worst;
    }

    private void DropShadow(SessionHop hop)
    {
        if (_shadows.Remove(hop.Blocks, out var shadow))
        {
            _closing.Add(CloseAllAsync(shadow.Hops));
        }
    }

    private async Task CloseShadowsAsync()
    {
        var shadows = _shadows.Values.SelectMany(s => s.Hops).ToList();
        _shadows.Clear();
        _closing.Add(CloseAllAsync(shadows));
        await Task.WhenAll(_closing).ConfigureAwait(false);
        _closing.Clear();
    }
}
