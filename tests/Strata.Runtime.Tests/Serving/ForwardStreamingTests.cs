using Strata.Runtime.Engine;
using Strata.Runtime.Protocol;
using Strata.Runtime.Serving;

namespace Strata.Runtime.Tests.Serving;

[Trait("Category", "Integration")]
public sealed class ForwardStreamingTests
{
    private const int Tokens = 30;

    private static readonly LlamaModel Model = TestModels.TinyBlocks();

    private static int Layers => Model.Config.LayerCount;

    [Fact]
    public async Task A_streamed_step_reports_every_block_in_order_and_equals_the_plain_step()
    {
        await using var server = await BlockServerHost.StartAsync(Model);
        using var client = new BlockServerClient(server.Address);
        var (plain, streamed) = (Prompt(), Prompt());
        await client.ForwardAsync("plain", 0, Layers, 0, plain, Tokens, Model.Config.HiddenSize);
        var blocks = new List<int>();
        await client.ForwardStreamingAsync("streamed", 0, Layers, 0, streamed, Tokens, Model.Config.HiddenSize, offerKv: false, (block, offer) =>
        {
            Assert.Null(offer);
            blocks.Add(block);
        });
        Assert.Equal(Enumerable.Range(0, Layers), blocks);
        Assert.Equal(plain, streamed);
        Assert.Equal(0, server.PendingKvOffers);
    }

    [Fact]
    public async Task Each_block_offered_as_it_finishes_pulls_into_a_bit_identical_cache_even_after_the_source_moves_on()
    {
        await using var prefill = await BlockServerHost.StartAsync(Model);
        await using var decode = await BlockServerHost.StartAsync(Model);
        using var prefillClient = new BlockServerClient(prefill.Address);
        using var decodeClient = new BlockServerClient(decode.Address);
        var hidden = Prompt();
        var local = Model.CreateSession();
        Model.ForwardBlocks(local, 0, Layers, hidden.ToArray(), Tokens);

        var offers = new List<OfferKvReply>();
        await prefillClient.ForwardStreamingAsync("s", 0, Layers, 0, hidden, Tokens, Model.Config.HiddenSize, offerKv: true, (block, offer) =>
        {
            Assert.NotNull(offer);
            Assert.Equal((block, Tokens), (offer.Blocks.Single().BlockIndex, offer.Blocks.Single().TokenCount));
            offers.Add(offer);
        });
        Assert.Equal(Layers, prefill.PendingKvOffers);

        // The source session moves on (one more token) before anything is pulled: the offers hold the copies made when each block finished.
        await prefillClient.ForwardAsync("s", 0, Layers, Tokens, TestModels.Tiny().Embed([77]), 1, Model.Config.HiddenSize);
        foreach (var offer in offers)
        {
            Assert.NotNull(await prefillClient.PullOfferAsync(offer, decodeClient, "d"));
        }

        Assert.Equal(0, prefill.PendingKvOffers);
        var moved = await decodeClient.ExportKvAsync("d", 0, Layers);
        foreach (var snapshot in moved)
        {
            var cache = local.Cache(snapshot.BlockIndex);
            Assert.Equal(Tokens, snapshot.TokenCount);
            Assert.True(cache.Keys.Span.SequenceEqual(snapshot.Keys), $"keys of block {snapshot.BlockIndex} differ");
            Assert.True(cache.Values.Span.SequenceEqual(snapshot.Values), $"values of block {snapshot.BlockIndex} differ");
        }
    }

    private static float[] Prompt() => TestModels.Tiny().Embed([.. Enumerable.Range(0, Tokens).Select(i => 40 + (i * 11 % 80))]);

}
