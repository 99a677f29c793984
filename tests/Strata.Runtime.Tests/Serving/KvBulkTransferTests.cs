using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Strata.Runtime.Engine;
using Strata.Runtime.Protocol;
using Strata.Runtime.Serving;

namespace Strata.Runtime.Tests.Serving;

[Trait("Category", "Integration")]
public sealed class KvBulkTransferTests
{
    private const int Tokens = 40;


    private static readonly LlamaModel Model = TestModels.TinyBlocks();

    private static int Layers => Model.Config.LayerCount;

    private static int Dimension => Model.Config.KeyValueDimension;

    private static long CacheBytes => 2L * Layers * Tokens * Dimension * sizeof(float);

    [Fact]
    public async Task A_bulk_move_yields_a_bit_identical_cache_and_the_same_next_decode_step()
    {
        await using var prefill = await BlockServerHost.StartAsync(Model);
        await using var decode = await BlockServerHost.StartAsync(Model);
        Assert.NotEqual(0, prefill.BulkPort);
        using var prefillClient = new BlockServerClient(prefill.Address);
        using var decodeClient = new BlockServerClient(decode.Address);
        var local = await PrefillAsync(prefillClient, "s");

        var offer = await Grpc(prefill).OfferKvAsync(new OfferKvRequest { SessionId = "s", FirstBlock = 0, BlockCount = Layers });
        Assert.Equal(prefill.BulkPort, offer.BulkPort);
        Assert.Equal(16, offer.Ticket.Length);
        Assert.Equal(CacheBytes, offer.TotalBytes);
        Assert.Equal(Enumerable.Range(0, Layers), offer.Blocks.Select(b => b.BlockIndex));
        Assert.All(offer.Blocks, b => Assert.Equal((Tokens, Dimension), (b.TokenCount, b.KeyValueDimension)));

        var pulled = await Grpc(decode).PullKvAsync(new PullKvRequest { DestinationSessionId = "pulled", SourceHost = "127.0.0.1", Offer = offer });
        Assert.Equal((Layers, CacheBytes), (pulled.BlockCount, pulled.Bytes));
        AssertSame(local, await decodeClient.ExportKvAsync("pulled", 0, Layers));
        Assert.Equal(CacheBytes, decode.KvBytes);
        Assert.Equal(0, prefill.PendingKvOffers);

        // The client's copy takes the bulk path too (the source's ticket count goes up and back to zero) and lands the same bytes.
        var copied = await prefillClient.CopyKvToAsync("s", 0, Layers, decodeClient, "copied");
        Assert.Equal((Layers, CacheBytes), (copied.BlockCount, copied.Bytes));
        AssertSame(local, await decodeClient.ExportKvAsync("copied", 0, Layers));

        // The next decode step on the destination equals the same step on the source, bit for bit.
        var next = TestModels.Tiny().Embed([101]);
        var onSource = next.ToArray();
        var onDestination = next.ToArray();
        await prefillClient.ForwardAsync("s", 0, Layers, Tokens, onSource, 1, Model.Config.HiddenSize);
        await decodeClient.ForwardAsync("pulled", 0, Layers, Tokens, onDestination, 1, Model.Config.HiddenSize);
        Assert.Equal(onSource, onDestination);
    }

    [Fact]
    public async Task A_ticket_works_once()
    {
        await using var prefill = await BlockServerHost.StartAsync(Model);
        await using var decode = await BlockServerHost.StartAsync(Model);
        using var prefillClient = new BlockServerClient(prefill.Address);
        await PrefillAsync(prefillClient, "s");
        var offer = await Grpc(prefill).OfferKvAsync(new OfferKvRequest { SessionId = "s", FirstBlock = 0, BlockCount = Layers });

        await Grpc(decode).PullKvAsync(new PullKvRequest { DestinationSessionId = "first", SourceHost = "127.0.0.1", Offer = offer });
        var again = await Assert.ThrowsAsync<RpcException>(() => Grpc(decode).PullKvAsync(
            new PullKvRequest { DestinationSessionId = "second", SourceHost = "127.0.0.1", Offer = offer }).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, again.StatusCode);
        Assert.Contains("ticket", again.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, decode.SessionCount); // the failed pull left no session behind
        Assert.Equal(CacheBytes, decode.KvBytes);
    }

    [Fact]
    public async Task A_wrong_ticket_is_refused_and_nothing_leaks()
    {
        await using var prefill = await BlockServerHost.StartAsync(Model);
        await using var decode = await BlockServerHost.StartAsync(Model);
        using var prefillClient = new BlockServerClient(prefill.Address);
        await PrefillAsync(prefillClient, "s");
        var offer = await Grpc(prefill).OfferKvAsync(new OfferKvRequest { SessionId = "s", FirstBlock = 0, BlockCount = Layers });
        var forged = offer.Clone();
        var ticket = offer.Ticket.ToByteArray();
        ticket[0] ^= 1;
        forged.Ticket = ByteString.CopyFrom(ticket);

        var refused = await Assert.ThrowsAsync<RpcException>(() => Grpc(decode).PullKvAsync(
            new PullKvRequest { DestinationSessionId = "d", SourceHost = "127.0.0.1", Offer = forged }).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Equal((0, 0L), (decode.SessionCount, decode.KvBytes));
        Assert.Equal(1, prefill.PendingKvOffers); // the real ticket is untouched and still works
        await Grpc(decode).PullKvAsync(new PullKvRequest { DestinationSessionId = "d", SourceHost = "127.0.0.1", Offer = offer });
        Assert.Equal(CacheBytes, decode.KvBytes);
    }

    [Fact]
    public async Task An_expired_ticket_is_refused_and_swept()
    {
        var clock = new ManualTimeProvider();
        await using var prefill = await BlockServerHost.StartAsync(Model, timeProvider: clock);
        await using var decode = await BlockServerHost.StartAsync(Model);
        using var prefillClient = new BlockServerClient(prefill.Address);
        await PrefillAsync(prefillClient, "s");
        var request = new OfferKvRequest { SessionId = "s", FirstBlock = 0, BlockCount = Layers };
        var pulledLate = await Grpc(prefill).OfferKvAsync(request);
        var neverPulled = await Grpc(prefill).OfferKvAsync(request);
        Assert.Equal((int)prefill.Limits.KvOfferLifetime.TotalMilliseconds, neverPulled.ExpiresInMs);
        Assert.Equal(2, prefill.PendingKvOffers);

        clock.Advance(prefill.Limits.KvOfferLifetime);
        var refused = await Assert.ThrowsAsync<RpcException>(() => Grpc(decode).PullKvAsync(
            new PullKvRequest { DestinationSessionId = "d", SourceHost = "127.0.0.1", Offer = pulledLate }).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Equal((0, 0L), (decode.SessionCount, decode.KvBytes));
        prefill.SweepKvOffers(); // the sweep timer may have dropped the unclaimed ticket already
        Assert.Equal(0, prefill.PendingKvOffers);
    }

    [Fact]
    public async Task Manifests_that_do_not_fit_the_destination_are_invalid_arguments_before_anything_is_allocated_or_connected()
    {
        await using var decode = await BlockServerHost.StartAsync(Model);
        using var source = new FakeSource(bytesToSend: 0);
        var maxContext = Model.Config.Architecture.MaxContextTokens;

        OfferKvReply Offer(Action<OfferKvReply> change)
        {
            var offer = FakeOffer(source.Port, Tokens);
            change(offer);
            return offer;
        }

        var wrong = new[]
        {
            Offer(o => o.Blocks[1].KeyValueDimension = Dimension * 2), // another model's width
            Offer(o => o.Blocks[3].BlockIndex = Layers), // a block this server does not host
            Offer(o => (o.Blocks[0].BlockIndex, o.Blocks[1].BlockIndex) = (1, 0)), // out of order
            Offer(o => o.Blocks[2].TokenCount = maxContext + 1), // past the context
            Offer(o => o.Blocks[2].TokenCount = -1),
            Offer(o => o.TotalBytes += 4), // total_bytes that the manifest does not add up to
            Offer(o => o.Blocks.Clear()),
            Offer(o => o.Ticket = ByteString.CopyFrom(new byte[8])),
            Offer(o => o.BulkPort = 0),
        };
        foreach (var offer in wrong)
        {
            Assert.Equal(StatusCode.InvalidArgument, await PullStatusAsync(decode, offer));
        }

        Assert.Equal(StatusCode.InvalidArgument, await PullStatusAsync(decode, null));
        Assert.Equal(StatusCode.InvalidArgument, await PullStatusAsync(decode, FakeOffer(source.Port, Tokens), sessionId: ""));
        Assert.Equal((0, 0L), (decode.SessionCount, decode.KvBytes));
        Assert.Equal(0, source.Connections);
    }

    [Fact]
    public async Task A_full_destination_answers_resource_exhausted_without_connecting()
    {
        await using var decode = await BlockServerHost.StartAsync(Model, limits: new BlockServerLimits { MaxKvBytes = CacheBytes - 1 });
        using var source = new FakeSource(bytesToSend: 0);

        Assert.Equal(StatusCode.ResourceExhausted, await PullStatusAsync(decode, FakeOffer(source.Port, Tokens)));
        Assert.Equal((0, 0L), (decode.SessionCount, decode.KvBytes));
        Assert.Equal(0, source.Connections);
    }

    [Fact]
    public async Task Bytes_from_anything_but_the_offers_source_are_refused_before_they_reach_a_cache()
    {
        await using var decode = await BlockServerHost.StartAsync(Model);
        using var impostor = new FakeSource(bytesToSend: CacheBytes, preamble: false); // the right number of bytes, no preamble

        var failed = await Assert.ThrowsAsync<RpcException>(() => Grpc(decode).PullKvAsync(
            new PullKvRequest { DestinationSessionId = "d", SourceHost = "127.0.0.1", Offer = FakeOffer(impostor.Port, Tokens) }).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, failed.StatusCode);
        Assert.Contains("not the offer's source", failed.Status.Detail, StringComparison.Ordinal);
        Assert.Equal((0, 0L), (decode.SessionCount, decode.KvBytes));
    }

    [Fact]
    public async Task A_source_that_drops_the_connection_mid_stream_fails_the_pull_and_frees_its_memory()
    {
        await using var decode = await BlockServerHost.StartAsync(Model);
        using var source = new FakeSource(bytesToSend: CacheBytes / 2);

        var failed = await Assert.ThrowsAsync<RpcException>(() => Grpc(decode).PullKvAsync(
            new PullKvRequest { DestinationSessionId = "d", SourceHost = "127.0.0.1", Offer = FakeOffer(source.Port, Tokens) }).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, failed.StatusCode);
        Assert.Contains($"{CacheBytes / 2} of {CacheBytes} bytes", failed.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, source.Connections);
        Assert.Equal((0, 0L), (decode.SessionCount, decode.KvBytes));
        Assert.True(decode.KvPool.IdleArrays >= 2, "the removed session's arrays go to the pool"); // the blocks reached before the drop

        // A session that existed keeps existing, with the blocks of the failed pull left empty.
        using var decodeClient = new BlockServerClient(decode.Address);
        await PrefillAsync(decodeClient, "held");
        Assert.Equal(StatusCode.Unavailable, await PullStatusAsync(decode, FakeOffer(source.Port, Tokens), sessionId: "held"));
        Assert.Equal(1, decode.SessionCount);
        Assert.Equal(0L, decode.KvBytes);
    }

    [Fact]
    public async Task A_pull_from_a_source_that_stalls_ends_at_the_call_deadline_and_frees_its_memory()
    {
        await using var decode = await BlockServerHost.StartAsync(Model);
        using var source = new FakeSource(bytesToSend: 100, holdOpen: true);

        var failed = await Assert.ThrowsAsync<RpcException>(() => Grpc(decode).PullKvAsync(
            new PullKvRequest { DestinationSessionId = "d", SourceHost = "127.0.0.1", Offer = FakeOffer(source.Port, Tokens) },
            deadline: DateTime.UtcNow.AddMilliseconds(300)).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, failed.StatusCode);

        // The client gives up at its deadline; the server notices it then too and releases the session (waited for, with a bound).
        for (var i = 0; i < 200 && (decode.SessionCount, decode.KvBytes) != (0, 0L); i++)
        {
            await Task.Delay(25);
        }

        Assert.Equal((0, 0L), (decode.SessionCount, decode.KvBytes));
    }

    [Fact]
    public async Task Source_hosts_other_than_loopback_ip_literals_are_refused()
    {
        await using var decode = await BlockServerHost.StartAsync(Model);
        using var source = new FakeSource(bytesToSend: 0);
        var offer = FakeOffer(source.Port, Tokens);

        Assert.Equal(StatusCode.InvalidArgument, await PullStatusAsync(decode, offer, sourceHost: "example.com"));
        Assert.Equal(StatusCode.InvalidArgument, await PullStatusAsync(decode, offer, sourceHost: "localhost.example.com"));
        Assert.Equal(StatusCode.InvalidArgument, await PullStatusAsync(decode, offer, sourceHost: ""));
        Assert.Equal(StatusCode.PermissionDenied, await PullStatusAsync(decode, offer, sourceHost: "10.1.2.3"));
        Assert.Equal(StatusCode.PermissionDenied, await PullStatusAsync(decode, offer, sourceHost: "[2001:db8::1]"));
        Assert.Equal(0, source.Connections);

        // Loopback spelled as a name or an IPv4 literal is allowed (the fake source then hangs up: a short read).
        Assert.Equal(StatusCode.Unavailable, await PullStatusAsync(decode, offer, sourceHost: "localhost"));
        Assert.Equal(StatusCode.Unavailable, await PullStatusAsync(decode, offer, sourceHost: "127.0.0.1"));
        Assert.Equal(2, source.Connections);
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public async Task A_copy_falls_back_to_the_streamed_path_when_either_server_has_no_bulk_path(bool sourceBulk, bool destinationBulk)
    {
        await using var prefill = await BlockServerHost.StartAsync(Model, limits: new BlockServerLimits { BulkKvEnabled = sourceBulk });
        await using var decode = await BlockServerHost.StartAsync(Model, limits: new BlockServerLimits { BulkKvEnabled = destinationBulk });
        Assert.Equal(sourceBulk, prefill.BulkPort != 0);
        Assert.Equal(sourceBulk, (await Grpc(prefill).InfoAsync(new InfoRequest())).BulkPort != 0);
        using var prefillClient = new BlockServerClient(prefill.Address);
        using var decodeClient = new BlockServerClient(decode.Address);
        var local = await PrefillAsync(prefillClient, "s");

        for (var copy = 0; copy < 2; copy++) // the second copy goes straight to the streamed path
        {
            var copied = await prefillClient.CopyKvToAsync("s", 0, Layers, decodeClient, $"copied{copy}");
            Assert.Equal((Layers, CacheBytes), (copied.BlockCount, copied.Bytes));
            AssertSame(local, await decodeClient.ExportKvAsync($"copied{copy}", 0, Layers));
        }

        // An offer the destination could not use stays with the source until it expires (only the first copy made one).
        Assert.Equal(sourceBulk ? 1 : 0, prefill.PendingKvOffers);
    }

    private static BlockServer.BlockServerClient Grpc(BlockServerHost host) => new(GrpcChannel.ForAddress(host.Address));

    private static async Task<StatusCode> PullStatusAsync(BlockServerHost host, OfferKvReply? offer, string sourceHost = "127.0.0.1", string sessionId = "d")
    {
        try
        {
            await Grpc(host).PullKvAsync(new PullKvRequest { DestinationSessionId = sessionId, SourceHost = sourceHost, Offer = offer });
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    // A well-formed offer of every block, tokens each, for a source at port.
    private static OfferKvReply FakeOffer(int port, int tokens)
    {
        var offer = new OfferKvReply { BulkPort = port, Ticket = ByteString.CopyFrom(new byte[16]), TotalBytes = 2L * Layers * tokens * Dimension * sizeof(float), ExpiresInMs = 30_000 };
        offer.Blocks.Add(Enumerable.Range(0, Layers).Select(b => new KvManifestEntry { BlockIndex = b, TokenCount = tokens, KeyValueDimension = Dimension }));
        return offer;
    }

    // Runs the prompt through a server's session and the same blocks locally; returns the local session (the reference).
    private static async Task<InferenceSession> PrefillAsync(BlockServerClient client, string sessionId)
    {
        var prompt = Enumerable.Range(0, Tokens).Select(i => 32 + (i * 7 % 90)).ToArray();
        var hidden = TestModels.Tiny().Embed(prompt);
        var local = Model.CreateSession();
        Model.ForwardBlocks(local, 0, Layers, hidden.ToArray(), Tokens);
        await client.ForwardAsync(sessionId, 0, Layers, 0, hidden, Tokens, Model.Config.HiddenSize);
        return local;
    }

    private static void AssertSame(InferenceSession local, IReadOnlyList<KvCacheSnapshot> snapshots)
    {
        Assert.Equal(local.LayerCount, snapshots.Count);
        foreach (var snapshot in snapshots)
        {
            var cache = local.Cache(snapshot.BlockIndex);
            Assert.Equal(cache.TokenCount, snapshot.TokenCount);
            Assert.True(cache.Keys.Span.SequenceEqual(snapshot.Keys), $"keys of block {snapshot.BlockIndex} differ");
            Assert.True(cache.Values.Span.SequenceEqual(snapshot.Values), $"values of block {snapshot.BlockIndex} differ");
        }
    }

    // A bulk source that misbehaves: accepts, reads the 16-byte ticket, sends bytesToSend bytes, then hangs up (or holds the connection open).
    private sealed class FakeSource : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly List<Socket> _accepted = [];
        private int _connections;

        public FakeSource(long bytesToSend, bool holdOpen = false, bool preamble = true)
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(8);
            Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
            _ = Task.Run(async () =>
            {
                while (true)
                {
                    Socket connection;
                    try
                    {
                        connection = await _listener.AcceptAsync();
                    }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException)
                    {
                        return;
                    }

                    Interlocked.Increment(ref _connections);
                    lock (_accepted)
                    {
                        _accepted.Add(connection);
                    }

                    try
                    {
                        var ticket = new byte[16];
                        for (var read = 0; read < ticket.Length;)
                        {
                            var count = await connection.ReceiveAsync(ticket.AsMemory(read), SocketFlags.None);
                            read += count == 0 ? ticket.Length : count;
                        }

                        if (preamble && bytesToSend > 0)
                        {
                            var header = new byte[KvBulkListener.PreambleBytes];
                            KvBulkListener.WritePreamble(header, ticket, CacheBytes);
                            await connection.SendAsync(header, SocketFlags.None);
                        }

                        await connection.SendAsync(new byte[bytesToSend], SocketFlags.None);
                        if (!holdOpen)
                        {
                            connection.Dispose();
                        }
                    }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException)
                    {
                        // The puller went away first.
                    }
                }
            });
        }

        public int Port { get; }

        public int Connections => Volatile.Read(ref _connections);

        public void Dispose()
        {
            _listener.Dispose();
            lock (_accepted)
            {
                _accepted.ForEach(s => s.Dispose());
            }
        }
    }
}
