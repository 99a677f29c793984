using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Strata.Runtime.Engine;
using Strata.Runtime.Protocol;
using Strata.Runtime.Serving;

namespace Strata.Runtime.Tests.Serving;

[Trait("Category", "Integration")]
public sealed class KvTransferTests
{
    private const int Tokens = 40;

    // The smallest chunk: 4 KiB, 16 tokens of the tiny model's width-32 keys and values, so 40 tokens take 3 chunks.
    private static readonly BlockServerLimits SmallChunks = new() { KvChunkBytes = 4096 };


    [Fact]
    public async Task A_kv_cache_larger_than_one_chunk_round_trips_bit_exactly()
    {
        var model = TestModels.TinyBlocks();
        int layers = model.Config.LayerCount, dimension = model.Config.KeyValueDimension;
        Assert.True(2 * Tokens * dimension * sizeof(float) > SmallChunks.KvChunkBytes);
        await using var prefill = await BlockServerHost.StartAsync(model, limits: SmallChunks);
        await using var decode = await BlockServerHost.StartAsync(model, limits: SmallChunks);
        using var prefillClient = new BlockServerClient(prefill.Address);
        using var decodeClient = new BlockServerClient(decode.Address, maxMessageBytes: 8192); // imports in 4 KiB chunks too

        var prompt = Enumerable.Range(0, Tokens).Select(i => 32 + (i * 7 % 90)).ToArray();
        var hidden = TestModels.Tiny().Embed(prompt);
        var local = model.CreateSession();
        model.ForwardBlocks(local, 0, layers, hidden.ToArray(), Tokens);
        await prefillClient.ForwardAsync("s", 0, layers, 0, hidden, Tokens, model.Config.HiddenSize);

        // The export really is chunked: three messages per block.
        using (var channel = GrpcChannel.ForAddress(prefill.Address))
        {
            using var call = new BlockServer.BlockServerClient(channel).ExportKv(new ExportKvRequest { SessionId = "s", FirstBlock = 0, BlockCount = layers });
            var chunks = new List<KvBlock>();
            await foreach (var chunk in call.ResponseStream.ReadAllAsync())
            {
                chunks.Add(chunk);
            }

            Assert.Equal(3 * layers, chunks.Count);
            Assert.All(chunks, c => Assert.Equal(Tokens, c.BlockTokenCount));
        }

        var exported = await prefillClient.ExportKvAsync("s", 0, layers);
        AssertSame(local, exported);

        Assert.Equal(2L * layers * Tokens * dimension * sizeof(float), (await decodeClient.ImportKvAsync("imported", exported)).Bytes);
        AssertSame(local, await decodeClient.ExportKvAsync("imported", 0, layers));

        var copied = await prefillClient.StreamKvToAsync("s", 0, layers, decodeClient, "copied");
        Assert.Equal(layers, copied.BlockCount);
        AssertSame(local, await decodeClient.ExportKvAsync("copied", 0, layers));
    }

    [Fact]
    public async Task Malformed_chunk_sequences_are_invalid_arguments()
    {
        var model = TestModels.TinyBlocks();
        var dimension = model.Config.KeyValueDimension;
        await using var server = await BlockServerHost.StartAsync(model);

        KvBlock Chunk(int block, int first, int count, int total, int? keyBytes = null) => new()
        {
            SessionId = "m",
            BlockIndex = block,
            FirstToken = first,
            TokenCount = count,
            BlockTokenCount = total,
            KeyValueDimension = dimension,
            Keys = ByteString.CopyFrom(new byte[keyBytes ?? count * dimension * sizeof(float)]),
            Values = ByteString.CopyFrom(new byte[count * dimension * sizeof(float)]),
        };

        // Well formed: two blocks of 10 tokens, in chunks of 4, 4 and 2.
        Assert.Equal(StatusCode.OK, await Import(server.Address,
            Chunk(0, 0, 4, 10), Chunk(0, 4, 4, 10), Chunk(0, 8, 2, 10), Chunk(1, 0, 10, 10)));

        // Blocks out of order, or repeated.
        Assert.Equal(StatusCode.InvalidArgument, await Import(server.Address, Chunk(1, 0, 10, 10), Chunk(0, 0, 10, 10)));
        Assert.Equal(StatusCode.InvalidArgument, await Import(server.Address, Chunk(0, 0, 10, 10), Chunk(0, 0, 10, 10)));

        // A chunk of another block while a block is incomplete.
        Assert.Equal(StatusCode.InvalidArgument, await Import(server.Address, Chunk(0, 0, 4, 10), Chunk(1, 0, 10, 10)));

        // Wrong token counts: a gap, an overlap, past the block's end, a block that changes its size, a first chunk not at 0.
        Assert.Equal(StatusCode.InvalidArgument, await Import(server.Address, Chunk(0, 0, 4, 10), Chunk(0, 5, 5, 10)));
        Assert.Equal(StatusCode.InvalidArgument, await Import(server.Address, Chunk(0, 0, 4, 10), Chunk(0, 3, 7, 10)));
        Assert.Equal(StatusCode.InvalidArgument, await Import(server.Address, Chunk(0, 0, 4, 10), Chunk(0, 4, 8, 10)));
        Assert.Equal(StatusCode.InvalidArgument, await Import(server.Address, Chunk(0, 0, 4, 10), Chunk(0, 4, 6, 12)));
        Assert.Equal(StatusCode.InvalidArgument, await Import(server.Address, Chunk(0, 2, 8, 10)));
        Assert.Equal(StatusCode.InvalidArgument, await Import(server.Address, Chunk(0, 0, 0, 10)));
        Assert.Equal(StatusCode.InvalidArgument, await Import(server.Address, Chunk(0, 0, 4, -4)));

        // The stream ends inside a block.
        Assert.Equal(StatusCode.InvalidArgument, await Import(server.Address, Chunk(0, 0, 4, 10)));

        // Sizes that do not match the shape, and a wrong width.
        Assert.Equal(StatusCode.InvalidArgument, await Import(server.Address, Chunk(0, 0, 4, 10, keyBytes: (4 * dimension * sizeof(float)) - 4)));
        var wide = Chunk(0, 0, 10, 10);
        wide.KeyValueDimension = dimension * 2;
        Assert.Equal(StatusCode.InvalidArgument, await Import(server.Address, wide));

        // One stream, one session.
        var other = Chunk(1, 0, 10, 10);
        other.SessionId = "other";
        Assert.Equal(StatusCode.InvalidArgument, await Import(server.Address, Chunk(0, 0, 10, 10), other));

        // A block that failed half way is left empty, not half imported; blocks completed before it stay.
        var complete = Chunk(0, 0, 10, 10);
        var half = Chunk(1, 0, 4, 10);
        var broken = Chunk(1, 4, 4, 10, keyBytes: 8);
        complete.SessionId = half.SessionId = broken.SessionId = "partial";
        Assert.Equal(StatusCode.InvalidArgument, await Import(server.Address, complete, half, broken));
        using var client = new BlockServerClient(server.Address);
        var after = await client.ExportKvAsync("partial", 0, 2);
        Assert.Equal([10, 0], after.Select(s => s.TokenCount));
    }

    private static async Task<StatusCode> Import(Uri address, params KvBlock[] chunks)
    {
        using var channel = GrpcChannel.ForAddress(address);
        using var call = new BlockServer.BlockServerClient(channel).ImportKv();
        try
        {
            foreach (var chunk in chunks)
            {
                await call.RequestStream.WriteAsync(chunk);
            }

            await call.RequestStream.CompleteAsync();
        }
        catch (Exception)
        {
            // The server may fail the call before every chunk is written (the write then throws one of several
            // exceptions, depending on timing); its status is in the response.
        }

        try
        {
            await call.ResponseAsync;
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
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
}
