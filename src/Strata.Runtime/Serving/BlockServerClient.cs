using System.Buffers;
using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using Strata.Runtime.Engine;
using Strata.Runtime.Protocol;
using Strata.Runtime.Security;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Serving;

/// <summary>A client of one block server: forward steps, KV export and import, session close, each under a deadline.</summary>
public sealed class BlockServerClient : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly BlockServer.BlockServerClient _client;
    private readonly TimeSpan _deadline;
    private readonly TimeProvider _time;
    private readonly int _kvChunkBytes;

    // Set once the server answered OfferKv or PullKv UNIMPLEMENTED: later moves go straight to the streamed path.
    private volatile bool _noBulkKv;
    private readonly ConcurrentDictionary<Uri, byte> _refusedBy = new(); // destinations that may not pull from here

    /// <summary>Connects (lazily) to the server at <paramref name="address"/>.</summary>
    /// <param name="address">The server, for example <c>http://127.0.0.1:50123</c>.</param>
    /// <param name="maxMessageBytes">Largest message sent or received.</param>
    /// <param name="deadline">Deadline of each call (default 60 s).</param>
    /// <param name="timeProvider">Clock the deadlines are set from (the system clock by default).</param>
    /// <param name="tls">Trust and client certificate for an <c>https</c> server (null: the system trust store, no client certificate).</param>
    public BlockServerClient(Uri address, int maxMessageBytes = 64 << 20, TimeSpan? deadline = null, TimeProvider? timeProvider = null, TlsOptions? tls = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        Address = address;
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = maxMessageBytes,
            MaxSendMessageSize = maxMessageBytes,
            // A large receive window: KV exports are megabytes (the default starts at 64 KiB and grows slowly).
            HttpHandler = TlsHttpHandler.Create(new SocketsHttpHandler { InitialHttp2StreamWindowSize = 16 << 20, EnableMultipleHttp2Connections = true }, tls?.Validate()),
            DisposeHttpClient = true,
        });
        _client = new BlockServer.BlockServerClient(_channel);
        _deadline = deadline ?? TimeSpan.FromSeconds(60);
        _time = timeProvider ?? TimeProvider.System;
        _kvChunkBytes = Math.Clamp(maxMessageBytes - 4096, 4096, 128 << 10);
    }

    /// <summary>The server's address.</summary>
    public Uri Address { get; }

    /// <summary>What the server hosts.</summary>
    public async Task<InfoReply> InfoAsync(CancellationToken cancellationToken = default) =>
        await _client.InfoAsync(new InfoRequest(), deadline: Deadline(), cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>Probes a round-trip measurement takes; the first also opens the connection, the fastest counts.</summary>
    public const int RoundTripProbes = 4;

    /// <summary>
    /// The round trip to the server as a client on the network sees it, seconds: the fastest of <see cref="RoundTripProbes"/>
    /// <c>Info</c> calls, each given <paramref name="timeout"/> (RpcException when one fails).
    /// </summary>
    /// <remarks>The fastest probe, not the mean: scheduling noise on a loaded machine only ever adds time.</remarks>
    public async Task<double> MeasureRoundTripSecondsAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var best = double.PositiveInfinity;
        for (var i = 0; i < RoundTripProbes; i++)
        {
            using var probe = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            probe.CancelAfter(timeout);
            var start = _time.GetTimestamp();
            await InfoAsync(probe.Token).ConfigureAwait(false);
            best = Math.Min(best, _time.GetElapsedTime(start).TotalSeconds);
        }

        return best;
    }

    /// <summary>Runs blocks <c>[firstBlock, firstBlock + blockCount)</c> of a session on <paramref name="hidden"/>, <c>(tokens, hidden)</c>, in place.</summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="firstBlock">First block of the range.</param>
    /// <param name="blockCount">Blocks of the range.</param>
    /// <param name="startPosition">Position of the first new token (lower than what the server cached replays from there).</param>
    /// <param name="hidden">Hidden states, <c>(tokens, hidden)</c>.</param>
    /// <param name="tokens">Number of new tokens.</param>
    /// <param name="hiddenSize">Width of a hidden state.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="expectedTokens">Tokens the session expects to hold in all (prompt plus output), 0 when unknown: the server sizes its caches for them once.</param>
    public async Task ForwardAsync(string sessionId, int firstBlock, int blockCount, int startPosition, Memory<float> hidden, int tokens, int hiddenSize, CancellationToken cancellationToken = default, int expectedTokens = 0)
    {
        var request = new ForwardRequest
        {
            SessionId = sessionId,
            FirstBlock = firstBlock,
            BlockCount = blockCount,
            StartPosition = startPosition,
            ExpectedTokens = expectedTokens,
            Hidden = TensorCodec.ToRentedTensor(hidden.Span[..(tokens * hiddenSize)], tokens, hiddenSize, out var rented),
        };
        var reply = await _client.ForwardAsync(request, deadline: Deadline(), cancellationToken: cancellationToken).ConfigureAwait(false);

        // A unary call's request has been sent in full once its reply is here. On a failure the bytes are left to the
        // garbage collector instead: the transport may still be reading them.
        ArrayPool<byte>.Shared.Return(rented);
        ReadHidden(reply, hidden.Span, tokens, hiddenSize);
    }

    /// <summary>
    /// Runs a step like <see cref="ForwardAsync"/>, hearing of each block as it finishes: <paramref name="onBlock"/> gets the
    /// block and, with <paramref name="offerKv"/> on a server with a bulk path, an offer of a copy of that block's KV cache
    /// to hand to <see cref="PullOfferAsync"/> (null otherwise).
    /// </summary>
    public async Task ForwardStreamingAsync(
        string sessionId, int firstBlock, int blockCount, int startPosition, Memory<float> hidden, int tokens, int hiddenSize, bool offerKv,
        Action<int, OfferKvReply?> onBlock, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onBlock);
        var request = new ForwardStreamingRequest { Step = StepRequest(sessionId, firstBlock, blockCount, startPosition, hidden.Span, tokens, hiddenSize), OfferKv = offerKv };
        using var call = _client.ForwardStreaming(request, deadline: Deadline(), cancellationToken: cancellationToken);
        var next = firstBlock;
        await foreach (var progress in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (progress.BlockDone is { } done)
            {
                if (done.BlockIndex != next || next >= firstBlock + blockCount)
                {
                    throw new RpcException(new Status(StatusCode.Internal, $"Server {Address} reported block {done.BlockIndex} done; expected block {next} of [{firstBlock}, {firstBlock + blockCount})."));
                }

                next++;
                onBlock(done.BlockIndex, done.Offer);
                continue;
            }

            if (progress.Result is not { } reply || next != firstBlock + blockCount)
            {
                break;
            }

            ReadHidden(reply, hidden.Span, tokens, hiddenSize);
            return;
        }

        throw new RpcException(new Status(StatusCode.Internal, $"Server {Address} ended a streamed step of blocks [{firstBlock}, {firstBlock + blockCount}) without its result."));
    }

    /// <summary>
    /// Has <paramref name="destination"/> pull an offer this server made (see <see cref="ForwardStreamingAsync"/>) into
    /// <paramref name="destinationSessionId"/>; null when the destination cannot (no bulk path, or not allowed to connect
    /// here): move the block with <see cref="CopyKvToAsync"/> then.
    /// </summary>
    public async Task<ImportKvReply?> PullOfferAsync(OfferKvReply offer, BlockServerClient destination, string destinationSessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(offer);
        ArgumentNullException.ThrowIfNull(destination);
        if (!CanPullFromHere(destination))
        {
            return null;
        }
        try
        {
            // The source's host as this client reaches it: the destination connects to it (loopback or a trusted peer).
            var request = new PullKvRequest { DestinationSessionId = destinationSessionId, SourceHost = Address.IdnHost, Offer = offer };
            return await destination._client.PullKvAsync(request, deadline: destination.Deadline(), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            destination._noBulkKv = true;
            return null;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.PermissionDenied)
        {
            // The destination may not connect to this source (not loopback, not among its trusted KV sources): a policy,
            // not a failure, so the move goes through this client instead, and later moves there skip the offer.
            _refusedBy.TryAdd(destination.Address, 0);
            return null;
        }
    }

    /// <summary>Copies a session's KV caches of a block range out of the server, reassembling each block's chunks (every chunk checked).</summary>
    public async Task<IReadOnlyList<KvCacheSnapshot>> ExportKvAsync(string sessionId, int firstBlock, int blockCount, CancellationToken cancellationToken = default)
    {
        var snapshots = new List<KvCacheSnapshot>(blockCount);
        var reader = new KvChunkReader(0, 0, StatusCode.Internal);
        float[] keys = [];
        float[] values = [];
        using var call = _client.ExportKv(new ExportKvRequest { SessionId = sessionId, FirstBlock = firstBlock, BlockCount = blockCount }, deadline: Deadline(), cancellationToken: cancellationToken);
        await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var dimension = reader.KeyValueDimension;
            if (reader.Accept(chunk))
            {
                dimension = reader.KeyValueDimension;
                if ((long)reader.BlockTokens * dimension > Array.MaxLength)
                {
                    throw new RpcException(new Status(StatusCode.Internal, $"Server {Address} announced a KV block of {reader.BlockTokens} tokens of width {dimension}: too large."));
                }

                keys = new float[reader.BlockTokens * dimension];
                values = new float[reader.BlockTokens * dimension];
            }

            var length = chunk.TokenCount * dimension;
            TensorDtypes.ToFloat32(chunk.Keys.Span, TensorDtype.F32, keys.AsSpan(chunk.FirstToken * dimension, length));
            TensorDtypes.ToFloat32(chunk.Values.Span, TensorDtype.F32, values.AsSpan(chunk.FirstToken * dimension, length));
            if (reader.BlockComplete)
            {
                snapshots.Add(new KvCacheSnapshot(chunk.BlockIndex, reader.BlockTokens, dimension, keys, values));
            }
        }

        reader.Finish();
        return snapshots;
    }

    /// <summary>Installs KV caches in a session on the server, streaming each block in chunks of about 1 MiB; blocks must come in increasing block order.</summary>
    public async Task<ImportKvReply> ImportKvAsync(string sessionId, IEnumerable<KvCacheSnapshot> snapshots, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        using var call = _client.ImportKv(deadline: Deadline(), cancellationToken: cancellationToken);
        foreach (var snapshot in snapshots)
        {
            var length = snapshot.TokenCount * snapshot.KeyValueDimension;
            if (snapshot.TokenCount < 0 || snapshot.Keys.Length < length || snapshot.Values.Length < length)
            {
                throw new ArgumentException($"KV snapshot of block {snapshot.BlockIndex} claims {snapshot.TokenCount} tokens but holds {snapshot.Keys.Length} keys and {snapshot.Values.Length} values.", nameof(snapshots));
            }

            // The chunks wrap this buffer; it goes back to the pool once every chunk has been serialized.
            var bytes = length * sizeof(float);
            var buffer = ArrayPool<byte>.Shared.Rent(checked(2 * bytes));
            try
            {
                TensorCodec.WriteFloats(snapshot.Keys.AsSpan(0, length), buffer.AsSpan(0, bytes));
                TensorCodec.WriteFloats(snapshot.Values.AsSpan(0, length), buffer.AsSpan(bytes, bytes));
                await TensorCodec.WriteKvChunksAsync(call.RequestStream, sessionId, snapshot.BlockIndex, snapshot.TokenCount, snapshot.KeyValueDimension,
                    buffer.AsMemory(0, bytes), buffer.AsMemory(bytes, bytes), _kvChunkBytes, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        return await call.ResponseAsync.ConfigureAwait(false);
    }

    /// <summary>
    /// Moves a session's KV caches of a block range from this server to <paramref name="destination"/> (phase split:
    /// prefill to decode). When both servers have the bulk path, the destination pulls the raw bytes from this server
    /// over TCP (<c>OfferKv</c> here, <c>PullKv</c> there); otherwise (either server without it, or a destination
    /// that may not connect to this source) the caches are streamed through this client,
    /// each chunk forwarded as it arrives, its bytes never decoded here. The destination checks what it receives.
    /// </summary>
    /// <returns>The destination's count of blocks and bytes installed.</returns>
    public async Task<ImportKvReply> CopyKvToAsync(string sessionId, int firstBlock, int blockCount, BlockServerClient destination, string destinationSessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (CanPullFromHere(destination))
        {
            var moved = await TryBulkCopyAsync(sessionId, firstBlock, blockCount, destination, destinationSessionId, cancellationToken).ConfigureAwait(false);
            if (moved is not null)
            {
                return moved;
            }
        }

        return await StreamKvToAsync(sessionId, firstBlock, blockCount, destination, destinationSessionId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The streamed move on its own: <c>ExportKv</c> from this server forwarded chunk by chunk into <c>ImportKv</c> on
    /// <paramref name="destination"/>, whatever paths the servers have.
    /// </summary>
    /// <returns>The destination's count of blocks and bytes installed.</returns>
    public async Task<ImportKvReply> StreamKvToAsync(string sessionId, int firstBlock, int blockCount, BlockServerClient destination, string destinationSessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var export = _client.ExportKv(new ExportKvRequest { SessionId = sessionId, FirstBlock = firstBlock, BlockCount = blockCount }, deadline: Deadline(), cancellationToken: cancellationToken);
        using var import = destination._client.ImportKv(deadline: destination.Deadline(), cancellationToken: cancellationToken);
        await foreach (var block in export.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            block.SessionId = destinationSessionId;
            await import.RequestStream.WriteAsync(block, cancellationToken).ConfigureAwait(false);
        }

        await import.RequestStream.CompleteAsync().ConfigureAwait(false);
        return await import.ResponseAsync.ConfigureAwait(false);
    }

    // The bulk move; null when either server has no bulk path (the caller streams instead). An offer the destination
    // cannot use expires on the source by itself.
    private async Task<ImportKvReply?> TryBulkCopyAsync(string sessionId, int firstBlock, int blockCount, BlockServerClient destination, string destinationSessionId, CancellationToken cancellationToken)
    {
        OfferKvReply offer;
        try
        {
            offer = await _client.OfferKvAsync(new OfferKvRequest { SessionId = sessionId, FirstBlock = firstBlock, BlockCount = blockCount },
                deadline: Deadline(), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            _noBulkKv = true;
            return null;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
        {
            return null; // too many offers outstanding on the source: stream this move instead
        }

        return offer.BulkPort == 0 ? null : await PullOfferAsync(offer, destination, destinationSessionId, cancellationToken).ConfigureAwait(false);
    }

    private static ForwardRequest StepRequest(string sessionId, int firstBlock, int blockCount, int startPosition, ReadOnlySpan<float> hidden, int tokens, int hiddenSize) => new()
    {
        SessionId = sessionId,
        FirstBlock = firstBlock,
        BlockCount = blockCount,
        StartPosition = startPosition,
        Hidden = TensorCodec.ToTensor(hidden[..(tokens * hiddenSize)], tokens, hiddenSize),
    };

    // The step's output, checked for its shape, written over the step's input.
    private void ReadHidden(ForwardReply reply, Span<float> hidden, int tokens, int hiddenSize)
    {
        var rows = TensorCodec.CheckMatrix(reply.Hidden, hiddenSize, tokens, "reply hidden");
        if (rows != tokens)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"Server {Address} answered {rows} rows for {tokens} tokens."));
        }

        var rented = ArrayPool<float>.Shared.Rent(tokens * hiddenSize);
        try
        {
            var output = rented.AsSpan(0, tokens * hiddenSize); // (tokens, hidden)
            TensorCodec.DecodeInto(reply.Hidden.Data, output);

            // No honest server answers NaN or infinity for finite input: the reply is refused (DATA_LOSS, a failed hop), never used.
            var bad = Verification.HiddenStateCheck.FirstNonFinite(output);
            if (bad >= 0)
            {
                throw new RpcException(new Status(StatusCode.DataLoss,
                    $"Server {Address} answered a non-finite hidden state ({output[bad]} at token {bad / hiddenSize}); its reply was rejected."));
            }

            output.CopyTo(hidden);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>Whether <paramref name="destination"/> may take this server's KV caches over the bulk path (both have one, and it has not refused to connect here).</summary>
    public bool CanPullFromHere(BlockServerClient destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return !_noBulkKv && !destination._noBulkKv && !_refusedBy.ContainsKey(destination.Address);
    }

    /// <summary>Frees a session on the server; true when it existed.</summary>
    public async Task<bool> CloseSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        (await _client.CloseSessionAsync(new CloseSessionRequest { SessionId = sessionId }, deadline: Deadline(), cancellationToken: cancellationToken).ConfigureAwait(false)).Existed;

    /// <inheritdoc/>
    public void Dispose() => _channel.Dispose();

    // gRPC takes an absolute UTC deadline; it bounds a call and feeds no result.
    private DateTime Deadline() => _time.GetUtcNow().UtcDateTime + _deadline;
}
