using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Cryptography;
using Grpc.Core;
using Strata.Runtime.Protocol;
using Strata.Runtime.Security;

namespace Strata.Runtime.Serving;

/// <summary>
/// The source side of the bulk KV path: a TCP listener beside gRPC that, for a connection presenting a ticket
/// issued by <c>OfferKv</c>, sends the offered caches' keys and values as little-endian fp32 straight from the cache
/// arrays, then closes. When the server serves TLS, every connection is a TLS session first (the gRPC port's
/// certificate; a client certificate is required when the server requires one on gRPC).
/// </summary>
/// <remarks>
/// Protocol: the puller connects, writes the 16-byte ticket, and reads exactly the offer's <c>total_bytes</c>: for each
/// manifest block in order, its keys then its values (<c>token_count x key_value_dimension</c> floats each). A ticket
/// that is unknown, already used or expired gets the connection closed with nothing sent. Tickets are single use
/// and expire after <see cref="BlockServerLimits.KvOfferLifetime"/>; a sweep drops expired ones, so an unclaimed
/// offer keeps no session alive past its expiry, and a send still running at the expiry is cut off. The session's
/// lock is held during the send, so a forward step or an import cannot change the bytes under it.
/// Sends are blocking <see cref="Stream.Write(ReadOnlySpan{byte})"/> calls (a <see cref="NetworkStream"/>, or an
/// <see cref="SslStream"/> over it) over spans of the float arrays (a
/// <see cref="Memory{T}"/> of bytes over a float array would need unsafe code or a copy), each connection on
/// its own thread, at most <see cref="BlockServerLimits.MaxBulkKvConnections"/> at once.
/// </remarks>
internal sealed class KvBulkListener : IDisposable
{
    /// <summary>Bytes of a ticket.</summary>
    public const int TicketBytes = 16;

    /// <summary>
    /// Bytes the source writes before the caches: <c>STRATAKV</c>, the ticket it was given, and the total bytes that follow
    /// (little-endian int64). The puller checks them before anything lands in a cache, so bytes from anything but the
    /// offer's source (another service on that port, a stale listener) are refused.
    /// </summary>
    public const int PreambleBytes = 8 + TicketBytes + 8;

    private static ReadOnlySpan<byte> Magic => "STRATAKV"u8;

    /// <summary>Writes the preamble for <paramref name="ticket"/> and <paramref name="totalBytes"/> into <paramref name="destination"/>.</summary>
    public static void WritePreamble(Span<byte> destination, ReadOnlySpan<byte> ticket, long totalBytes)
    {
        Magic.CopyTo(destination);
        ticket.CopyTo(destination[8..]);
        BinaryPrimitives.WriteInt64LittleEndian(destination[(8 + TicketBytes)..], totalBytes);
    }

    /// <summary>Whether <paramref name="preamble"/> is the one the source of <paramref name="ticket"/> sends for <paramref name="totalBytes"/>.</summary>
    public static bool IsPreamble(ReadOnlySpan<byte> preamble, ReadOnlySpan<byte> ticket, long totalBytes) =>
        preamble.Length == PreambleBytes && preamble[..8].SequenceEqual(Magic) && preamble.Slice(8, TicketBytes).SequenceEqual(ticket)
        && BinaryPrimitives.ReadInt64LittleEndian(preamble[(8 + TicketBytes)..]) == totalBytes;

    private readonly Socket _listener;
    private readonly BlockServerLimits _limits;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<UInt128, KvOffer> _offers = new();
    private readonly ConcurrentDictionary<Socket, byte> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ITimer _sweepTimer;
    private int _active;
    private int _sent;
    private long _copyBytes;
    private readonly SemaphoreSlim _sending;
    private readonly TlsOptions? _tls;

    private KvBulkListener(Socket listener, BlockServerLimits limits, TimeProvider time, TlsOptions? tls)
    {
        _listener = listener;
        _tls = tls?.ServesTls == true ? tls : null;
        _sending = new SemaphoreSlim(limits.MaxBulkKvConnections, limits.MaxBulkKvConnections);
        _limits = limits;
        _time = time;
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        // Frequent and cheap (at most MaxKvOffers entries): an expired ticket holds its session for at most one period more.
        var sweep = TimeSpan.FromTicks(Math.Clamp(limits.KvOfferLifetime.Ticks / 10, TimeSpan.TicksPerSecond / 10, TimeSpan.TicksPerSecond));
        _sweepTimer = time.CreateTimer(_ => SweepExpired(), null, sweep, sweep);
        _ = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The port the listener is bound to.</summary>
    public int Port { get; }

    /// <summary>Whether connections are TLS sessions (the server serves TLS).</summary>
    public bool Tls => _tls is not null;

    /// <summary>Offers sent in full since the start.</summary>
    public int SentOffers => Volatile.Read(ref _sent);

    /// <summary>Tickets issued and not yet claimed or swept.</summary>
    public int PendingOffers => _offers.Count;

    /// <summary>Bytes held by offered copies not yet pulled or swept (they count in the server's KV budget).</summary>
    public long CopyBytes => Interlocked.Read(ref _copyBytes);

    /// <summary>Binds a listener on <paramref name="address"/> (a free port) and starts accepting; over TLS when <paramref name="tls"/> has a certificate.</summary>
    public static KvBulkListener Start(IPAddress address, BlockServerLimits limits, TimeProvider time, TlsOptions? tls = null)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, 0));
            socket.Listen(limits.MaxBulkKvConnections);
            return new KvBulkListener(socket, limits, time, tls);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Registers a single-use ticket for <paramref name="blocks"/> of <paramref name="session"/>; RESOURCE_EXHAUSTED when too many are outstanding.</summary>
    /// <param name="session">The source session.</param>
    /// <param name="blocks">The manifest.</param>
    /// <param name="copies">Copies of the blocks' keys and values to send instead of the live caches (no lock needed), or null.</param>
    public byte[] Register(ServerSession session, IReadOnlyList<KvManifestEntry> blocks, IReadOnlyList<(float[] Keys, float[] Values)>? copies = null)
    {
        if (_offers.Count >= _limits.MaxKvOffers && SweepExpired() == 0 && _offers.Count >= _limits.MaxKvOffers)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"This server has {_limits.MaxKvOffers} bulk KV offers outstanding; pull or let them expire, or use ExportKv."));
        }

        var ticket = new byte[TicketBytes];
        RandomNumberGenerator.Fill(ticket);
        var offer = new KvOffer(session, blocks, _time.GetTimestamp(), copies);
        Interlocked.Add(ref _copyBytes, offer.CopiedBytes);
        _offers[Key(ticket)] = offer;
        return ticket;
    }

    /// <summary>Drops expired tickets (a timer also does it every tenth of the lifetime, at least every second); returns how many.</summary>
    public int SweepExpired()
    {
        var swept = 0;
        foreach (var (key, offer) in _offers)
        {
            if (Expired(offer) && _offers.TryRemove(KeyValuePair.Create(key, offer)))
            {
                Interlocked.Add(ref _copyBytes, -offer.CopiedBytes);
                swept++;
            }
        }

        return swept;
    }

    /// <summary>Stops accepting, cuts off the connections being served and forgets every ticket.</summary>
    public void Dispose()
    {
        _stopping.Cancel();
        _sweepTimer.Dispose();
        _listener.Dispose();
        foreach (var socket in _connections.Keys)
        {
            socket.Dispose();
        }

        _offers.Clear();
        Interlocked.Exchange(ref _copyBytes, 0);
    }

    private static void SendPreamble(Stream connection, KvOffer offer, byte[] ticket)
    {
        Span<byte> preamble = stackalloc byte[PreambleBytes];
        WritePreamble(preamble, ticket, offer.TotalBytes);
        SendAll(connection, preamble);
    }

    private static UInt128 Key(ReadOnlySpan<byte> ticket) => MemoryMarshal.Read<UInt128>(ticket);

    private bool Expired(KvOffer offer) => _time.GetElapsedTime(offer.IssuedTimestamp) >= _limits.KvOfferLifetime;

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                continue; // a connection that failed before it was accepted
            }

            // At most MaxBulkKvConnections send at once; as many again wait for a turn (a burst of pulls is served, not
            // refused: a refused pull would make its client rebuild the whole decode chain); beyond that, refused.
            if (Interlocked.Increment(ref _active) > 4 * _limits.MaxBulkKvConnections)
            {
                Interlocked.Decrement(ref _active);
                connection.Dispose();
                continue;
            }

            _connections[connection] = 0;
            _ = Task.Factory.StartNew(() => Serve(connection), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
    }

    // One connection, on its own thread: read the ticket, claim it, send the blocks, close. Any failure closes the
    // connection; the puller sees a short read and reports it.
    private void Serve(Socket connection)
    {
        Stream? stream = null;
        try
        {
            var stallMilliseconds = (int)_limits.BulkKvStallTimeout.TotalMilliseconds;
            connection.NoDelay = true;
            connection.ReceiveTimeout = stallMilliseconds;
            connection.SendTimeout = stallMilliseconds;
            stream = new NetworkStream(connection, ownsSocket: false);
            if (_tls is not null)
            {
                // The handshake's reads and writes are bounded by the socket's stall time-outs, as every later read is.
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                ssl.AuthenticateAsServer(_tls.ServerAuthentication());
            }

            Span<byte> ticket = stackalloc byte[TicketBytes];
            for (var read = 0; read < TicketBytes;)
            {
                var received = stream.Read(ticket[read..]);
                if (received == 0)
                {
                    return;
                }

                read += received;
            }

            // Single use: the ticket is removed before anything is sent; an expired one is refused even if not swept yet.
            if (!_offers.TryRemove(Key(ticket), out var offer))
            {
                return;
            }

            Interlocked.Add(ref _copyBytes, -offer.CopiedBytes);
            if (Expired(offer))
            {
                return;
            }

            var remaining = _limits.KvOfferLifetime - _time.GetElapsedTime(offer.IssuedTimestamp);
            if (remaining <= TimeSpan.Zero)
            {
                return;
            }

            if (!_sending.Wait(remaining, _stopping.Token))
            {
                return;
            }

            try
            {
                // An emulated wide-area link: the bytes leave one round trip later, as the reply to the ticket would.
                if (_limits.EmulatedRtt > TimeSpan.Zero && _stopping.Token.WaitHandle.WaitOne(_limits.EmulatedRtt))
                {
                    return;
                }

                SendOffer(connection, stream, offer, ticket.ToArray());
            }
            finally
            {
                _sending.Release();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException or OperationCanceledException or AuthenticationException)
        {
            // The puller went away, stalled past the limit, failed the TLS handshake (no trusted client certificate), or
            // the ticket expired mid-send: it sees a short read or a failed handshake.
        }
        finally
        {
            stream?.Dispose();
            _connections.TryRemove(connection, out _);
            connection.Dispose();
            Interlocked.Decrement(ref _active);
        }
    }

    // Holding a sending turn: the offered copies, or the live caches under the session's lock, then the end of the stream.
    private void SendOffer(Socket connection, Stream stream, KvOffer offer, byte[] ticket)
    {
        var remaining = _limits.KvOfferLifetime - _time.GetElapsedTime(offer.IssuedTimestamp); // after waiting for the turn
        if (remaining <= TimeSpan.Zero)
        {
            return;
        }

        using var expiry = new CancellationTokenSource(remaining, _time);
        using var cutOff = expiry.Token.Register(connection.Dispose);
        if (offer.Copies is { } copies)
        {
            SendPreamble(stream, offer, ticket);
            SendCopies(stream, offer.Blocks, copies);
            EndStream(connection, stream, sent: true);
            return;
        }

        if (!offer.Session.Lock.Wait(remaining, _stopping.Token))
        {
            return;
        }

        var sent = false;
        try
        {
            sent = !offer.Session.Removed && Send(stream, offer, ticket);
        }
        finally
        {
            offer.Session.Lock.Release();
        }

        EndStream(connection, stream, sent);
    }

    // Everything written is flushed (a TLS session also says close_notify), then the sending half of the TCP connection closes.
    private void EndStream(Socket connection, Stream stream, bool sent)
    {
        stream.Flush();
        if (stream is SslStream ssl)
        {
            ssl.ShutdownAsync().GetAwaiter().GetResult();
        }

        connection.Shutdown(SocketShutdown.Send);
        if (sent)
        {
            Interlocked.Increment(ref _sent);
        }
    }

    // Under the session's lock. Sends nothing unless every block still holds the offered tokens (a replay that
    // truncated the session since the offer makes the puller fail on a short read instead of getting other bytes).
    private bool Send(Stream connection, KvOffer offer, byte[] ticket)
    {
        Volatile.Write(ref offer.Session.LastUsedTimestamp, _time.GetTimestamp());
        foreach (var block in offer.Blocks)
        {
            if (offer.Session.Session.TokenCount(block.BlockIndex) < block.TokenCount)
            {
                return false;
            }
        }

        SendPreamble(connection, offer, ticket);
        foreach (var block in offer.Blocks)
        {
            var cache = offer.Session.Session.Cache(block.BlockIndex);
            var length = block.TokenCount * block.KeyValueDimension;
            SendAll(connection, MemoryMarshal.AsBytes(cache.Keys.Span[..length]));
            SendAll(connection, MemoryMarshal.AsBytes(cache.Values.Span[..length]));
        }

        return true;
    }

    // Copies taken when the offer was made: the session may have moved on, the copies have not.
    private static void SendCopies(Stream connection, IReadOnlyList<KvManifestEntry> blocks, IReadOnlyList<(float[] Keys, float[] Values)> copies)
    {
        for (var i = 0; i < blocks.Count; i++)
        {
            var length = blocks[i].TokenCount * blocks[i].KeyValueDimension;
            SendAll(connection, MemoryMarshal.AsBytes(copies[i].Keys.AsSpan(0, length)));
            SendAll(connection, MemoryMarshal.AsBytes(copies[i].Values.AsSpan(0, length)));
        }
    }

    private static void SendAll(Stream connection, ReadOnlySpan<byte> bytes) => connection.Write(bytes);
}
