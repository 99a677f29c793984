using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using Google.Protobuf;
using Grpc.Core;
using Strata.Runtime.Engine;
using Strata.Runtime.Protocol;
using Strata.Runtime.Security;

namespace Strata.Runtime.Serving;

/// <summary>The bulk KV path's gRPC half: <c>OfferKv</c> on the source, <c>PullKv</c> on the destination (see <see cref="KvBulkListener"/>).</summary>
internal sealed partial class BlockServerService
{
    private IReadOnlySet<IPAddress> _memberKvSources = new HashSet<IPAddress>();

    /// <summary>The hosts of the swarm's live servers, which this server may pull KV caches from (set from the coordinator's replies).</summary>
    public IReadOnlySet<IPAddress> MemberKvSources
    {
        get => Volatile.Read(ref _memberKvSources);
        set => Volatile.Write(ref _memberKvSources, value);
    }

    /// <summary>Bulk KV tickets issued and not yet claimed or swept (0 without a bulk path).</summary>
    public int PendingKvOffers => _bulk?.PendingOffers ?? 0;

    /// <summary>Drops expired bulk KV tickets now; returns how many.</summary>
    public int SweepKvOffers() => _bulk?.SweepExpired() ?? 0;

    public override async Task<OfferKvReply> OfferKv(OfferKvRequest request, ServerCallContext context)
    {
        var bulk = _bulk ?? throw NoBulkPath();
        CheckRange(request.FirstBlock, request.BlockCount);
        if (!_sessions.TryGetValue(request.SessionId, out var session))
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"Session '{request.SessionId}' is not held by this server (closed, timed out, or never opened)."));
        }

        var dimension = _model.Config.KeyValueDimension;
        var blocks = new KvManifestEntry[request.BlockCount];
        await session.EnterAsync(request.SessionId, context.CancellationToken).ConfigureAwait(false);
        try
        {
            Volatile.Write(ref session.LastUsedTimestamp, _time.GetTimestamp());
            for (var i = 0; i < blocks.Length; i++)
            {
                var tokens = session.Session.TokenCount(request.FirstBlock + i);
                blocks[i] = new KvManifestEntry { BlockIndex = request.FirstBlock + i, TokenCount = tokens, KeyValueDimension = dimension };
            }
        }
        finally
        {
            session.Lock.Release();
        }

        return Offer(bulk, session, blocks, copies: null);
    }

    // Under the session's lock, as a streamed step finishes a block: a ticket for a copy of that block's cache, so the
    // puller gets these bytes while the session computes the next block. The copy counts in the KV budget until it is
    // pulled or its ticket expires; none (null) when it would not fit: the client then moves the block from the session.
    private OfferKvReply? OfferCopy(ServerSession session, int block)
    {
        var cache = session.Session.Cache(block);
        var entry = new KvManifestEntry { BlockIndex = block, TokenCount = cache.TokenCount, KeyValueDimension = cache.KeyValueDimension };
        if (KvBytes + cache.SizeBytes > _limits.MaxKvBytes)
        {
            return null;
        }

        return Offer(_bulk!, session, [entry], [(cache.Keys.ToArray(), cache.Values.ToArray())]);
    }

    // Registers a ticket for the manifest (the live caches, or copies of them) and says where and what to pull.
    private OfferKvReply Offer(KvBulkListener bulk, ServerSession session, KvManifestEntry[] blocks, IReadOnlyList<(float[] Keys, float[] Values)>? copies)
    {
        var reply = new OfferKvReply
        {
            BulkPort = bulk.Port,
            Tls = bulk.Tls,
            Ticket = UnsafeByteOperations.UnsafeWrap(bulk.Register(session, blocks, copies)),
            TotalBytes = blocks.Sum(block => BlockKvCache.BytesFor(block.TokenCount, block.KeyValueDimension)),
            ExpiresInMs = (int)_limits.KvOfferLifetime.TotalMilliseconds,
        };
        reply.Blocks.Add(blocks);
        return reply;
    }

    public override async Task<ImportKvReply> PullKv(PullKvRequest request, ServerCallContext context)
    {
        if (_bulk is null)
        {
            throw NoBulkPath();
        }

        // Everything is checked before anything is allocated or connected to.
        var offer = request.Offer ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "offer is missing; pass the source's OfferKv reply."));
        var source = KvSourceAddress.Resolve(request.SourceHost, _limits.TrustedKvSources, MemberKvSources);
        if (offer.BulkPort is < 1 or > IPEndPoint.MaxPort || offer.Ticket.Length != KvBulkListener.TicketBytes)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"The offer has bulk port {offer.BulkPort} and a ticket of {offer.Ticket.Length} bytes; expected a port in 1-65535 and {KvBulkListener.TicketBytes} bytes."));
        }

        if (!offer.Tls && _tls?.ServesTls == true)
        {
            // The client may have stripped the flag, or the source runs without TLS: either way these bytes would cross
            // the network in the clear, which this server's operator turned TLS on to prevent. The client streams instead.
            throw new RpcException(new Status(StatusCode.PermissionDenied,
                "This server serves TLS and pulls KV caches only over TLS; the offer's bulk port is cleartext. Move the cache with ExportKv and ImportKv."));
        }

        var totalBytes = CheckManifest(offer);
        if (string.IsNullOrEmpty(request.DestinationSessionId) || request.DestinationSessionId.Length > 128)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "destination_session_id must be 1 to 128 characters."));
        }

        // Admission, as for ImportKv; the reservation counts until the session holds the tokens. Concurrent pulls
        // may each pass the check at once (at most one pull per concurrent call over, as for forward steps).
        if (KvBytes + totalBytes > _limits.MaxKvBytes)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"This server's KV budget of {_limits.MaxKvBytes} bytes cannot take {totalBytes} bytes of KV cache ({KvBytes} held); try another server or later."));
        }

        Interlocked.Add(ref _pendingKvBytes, totalBytes);
        try
        {
            var session = GetOrCreate(request.DestinationSessionId, ClientOf(context), out var created);
            try
            {
                await session.EnterAsync(request.DestinationSessionId, context.CancellationToken).ConfigureAwait(false);
                try
                {
                    await ReceiveAsync(session, source, request.SourceHost, offer, totalBytes, context.CancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    // Blocks received in part (or not yet) are left empty, never half imported, and their arrays go to the
                    // pool (the budget counts arrays, not tokens).
                    foreach (var block in offer.Blocks)
                    {
                        session.Session.Cache(block.BlockIndex).Release();
                    }

                    throw;
                }
                finally
                {
                    session.Lock.Release();
                }
            }
            catch when (created)
            {
                // Only while nothing else landed in it: another pull into the new session may have succeeded meanwhile.
                await session.Lock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                try
                {
                    if (!session.Removed && session.Session.KvSizeBytes == 0 && _sessions.TryRemove(KeyValuePair.Create(request.DestinationSessionId, session)))
                    {
                        session.Removed = true;
                        session.Session.Release();
                        _batcher?.Forget(session.Session); // its steps stop waiting for it
                    }
                }
                finally
                {
                    session.Lock.Release();
                }

                throw;
            }
        }
        finally
        {
            Interlocked.Add(ref _pendingKvBytes, -totalBytes);
        }

        return new ImportKvReply { BlockCount = offer.Blocks.Count, Bytes = totalBytes };
    }

    private static RpcException NoBulkPath() =>
        new(new Status(StatusCode.Unimplemented, "This server has no bulk KV path; move the cache with ExportKv and ImportKv."));

    // The manifest must describe blocks this server hosts, in increasing order, of this model's width, within its
    // context, and add up to total_bytes. Returns the bytes it describes.
    private long CheckManifest(OfferKvReply offer)
    {
        var dimension = _model.Config.KeyValueDimension;
        var maxContext = _model.Config.Architecture.MaxContextTokens;
        var maxTokens = maxContext > 0 ? maxContext : Array.MaxLength / dimension;
        if (offer.Blocks.Count == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The offer's manifest has no blocks."));
        }

        long totalBytes = 0;
        var previous = -1;
        foreach (var block in offer.Blocks)
        {
            CheckRange(block.BlockIndex, 1);
            if (block.BlockIndex <= previous)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument,
                    $"The offer's block {block.BlockIndex} comes after block {previous}; blocks must come once each, in increasing order."));
            }

            if (block.KeyValueDimension != dimension)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument,
                    $"The offer's block {block.BlockIndex} has width {block.KeyValueDimension}; this model's KV width is {dimension}."));
            }

            if (block.TokenCount < 0 || block.TokenCount > maxTokens)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument,
                    $"The offer's block {block.BlockIndex} holds {block.TokenCount} tokens; at most {maxTokens} are allowed."));
            }

            previous = block.BlockIndex;
            totalBytes += BlockKvCache.BytesFor(block.TokenCount, dimension);
        }

        if (offer.TotalBytes != totalBytes)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"The offer announces {offer.TotalBytes} bytes; its manifest describes {totalBytes}."));
        }

        return totalBytes;
    }

    // Under the session's lock: connect (and, for a TLS source, handshake, checking the source's certificate for
    // sourceHost and presenting this server's own as a client certificate), present the ticket, then read every block's
    // keys and values straight into its cache. Fails with UNAVAILABLE (source unreachable, untrusted, refused the ticket,
    // or stopped early) or DEADLINE_EXCEEDED.
    private async Task ReceiveAsync(ServerSession session, IPAddress source, string sourceHost, OfferKvReply offer, long totalBytes, CancellationToken cancellationToken)
    {
        using var socket = new Socket(source.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        var stallMilliseconds = (int)_limits.BulkKvStallTimeout.TotalMilliseconds;
        socket.NoDelay = true;
        socket.ReceiveTimeout = stallMilliseconds;
        socket.SendTimeout = stallMilliseconds;
        var received = new StrongBox<long>();
        try
        {
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connect.CancelAfter(_limits.BulkKvStallTimeout);
            await socket.ConnectAsync(new IPEndPoint(source, offer.BulkPort), connect.Token).ConfigureAwait(false);
            Stream stream = new NetworkStream(socket, ownsSocket: false);
            await using (stream.ConfigureAwait(false))
            {
                if (offer.Tls)
                {
                    var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                    stream = ssl;
                    await ssl.AuthenticateAsClientAsync((_tls ?? new TlsOptions()).ClientAuthentication(sourceHost), connect.Token).ConfigureAwait(false);
                }

                await stream.WriteAsync(offer.Ticket.Memory, cancellationToken).ConfigureAwait(false);

                // The reads block (they write into spans of the cache's float arrays), so they run on a thread of their
                // own; the call's deadline closes the socket, which ends a blocked read.
                using var cutOff = cancellationToken.Register(socket.Dispose);
                var reading = stream;
                await Task.Factory.StartNew(() => ReceiveBlocks(reading, session, offer, received), cancellationToken,
                    TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                $"The call's deadline passed after {Volatile.Read(ref received.Value)} of {totalBytes} bytes from the source's bulk port {offer.BulkPort}."));
        }
        catch (AuthenticationException e)
        {
            throw new RpcException(new Status(StatusCode.Unavailable,
                $"The bulk KV connection to {source} port {offer.BulkPort} failed its TLS handshake: {TlsHttpHandler.Describe(new UriBuilder(Uri.UriSchemeHttps, sourceHost, offer.BulkPort).Uri, e)}"));
        }
        catch (EndOfStreamException)
        {
            throw new RpcException(new Status(StatusCode.Unavailable,
                $"The source closed the bulk KV connection after {Volatile.Read(ref received.Value)} of {totalBytes} bytes: its ticket was unknown, already used or expired, or the source failed{RefusedCertificate(offer, received)}; offer again."));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            throw new RpcException(new Status(StatusCode.Unavailable,
                $"The bulk KV connection to {source} port {offer.BulkPort} failed after {Volatile.Read(ref received.Value)} of {totalBytes} bytes: {e.Message}{RefusedCertificate(offer, received)}"));
        }
        catch (InvalidDataException e)
        {
            throw new RpcException(new Status(StatusCode.Unavailable,
                $"The bulk KV connection to {source} port {offer.BulkPort} is not the offer's source: {e.Message}; nothing was imported."));
        }
    }

    // Under TLS 1.3 a source that refuses the puller's client certificate says so by closing (or resetting) the
    // connection after the handshake, before a byte of the caches: the puller cannot tell that from other failures.
    private static string RefusedCertificate(OfferKvReply offer, StrongBox<long> received) =>
        offer.Tls && Volatile.Read(ref received.Value) == 0
            ? "; over TLS this is also how a source refuses this server's client certificate (its --tls-client-ca must trust the CA that signed it)"
            : string.Empty;

    private static void ReceiveBlocks(Stream socket, ServerSession session, OfferKvReply offer, StrongBox<long> received)
    {
        Span<byte> preamble = stackalloc byte[KvBulkListener.PreambleBytes];
        ReceiveExactly(socket, preamble, new StrongBox<long>());
        if (!KvBulkListener.IsPreamble(preamble, offer.Ticket.Span, offer.TotalBytes))
        {
            throw new InvalidDataException("the bytes on its bulk port do not start with the offer's preamble (magic, ticket, size)");
        }

        foreach (var block in offer.Blocks)
        {
            session.Session.Cache(block.BlockIndex).Overwrite(block.TokenCount, out var keys, out var values);
            ReceiveExactly(socket, MemoryMarshal.AsBytes(keys), received);
            ReceiveExactly(socket, MemoryMarshal.AsBytes(values), received);
        }
    }

    private static void ReceiveExactly(Stream socket, Span<byte> destination, StrongBox<long> received)
    {
        while (!destination.IsEmpty)
        {
            var count = socket.Read(destination);
            if (count == 0)
            {
                throw new EndOfStreamException();
            }

            destination = destination[count..];
            Volatile.Write(ref received.Value, received.Value + count);
        }
    }
}
