using System.Collections.Concurrent;
using Strata.Runtime.Engine;
using Strata.Runtime.Kernels;
using Strata.Runtime.Weights;
using Strata.Runtime.Weights.Gguf;

namespace Strata.Runtime.Tests.Engine;

/// <summary>A batched decode step (one pass over the weights for several sessions) gives every session the bits of running it alone.</summary>
public sealed class BatchedDecodeTests
{
    // Prompt lengths: sessions at different positions, so rope and attention differ row by row.
    private static readonly int[] PromptLengths = [1, 3, 7, 12, 20, 2];

    private static readonly ConcurrentDictionary<GgmlType, LlamaModel> Models = new();

    public static TheoryData<string> WeightTypes => ["F32", "Q8_0", "Q4_0"];

    private static LlamaModel Model(string type) => type switch
    {
        "F32" => TestModels.Tiny(),
        _ => Models.GetOrAdd(Enum.Parse<GgmlType>(type), t =>
        {
            var directory = TestModels.NewDirectory();
            GgufModelWriter.Write(TestModels.TinyDirectory(), Path.Combine(directory, "model.gguf"), t);
            return ModelFolder.LoadModel(directory);
        }),
    };

    private static int Token(int session, int step) => (((31 * session) + (17 * step) + 5) % 256 + 256) % 256;

    private static InferenceSession Prefilled(LlamaModel model, int session)
    {
        var inference = model.CreateSession();
        var length = PromptLengths[session];
        var prompt = Enumerable.Range(0, length).Select(i => Token(session, -1 - i)).ToArray();
        model.ForwardBlocks(inference, 0, model.Config.LayerCount, model.Embed(prompt), length);
        return inference;
    }

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    [Theory]
    [MemberData(nameof(WeightTypes))]
    public void A_batched_decode_step_gives_each_session_the_bits_of_running_it_alone(string type)
    {
        var model = Model(type);
        if (type != "F32")
        {
            Assert.IsType<QuantizedMatrix>(model.Weights.Block(0).QueryProjection); // the quantized kernels really run
        }

        var layers = model.Config.LayerCount;
        var sessions = PromptLengths.Length;
        var alone = Enumerable.Range(0, sessions).Select(s => Prefilled(model, s)).ToArray();
        var batched = Enumerable.Range(0, sessions).Select(s => Prefilled(model, s)).ToArray();
        for (var step = 0; step < 4; step++)
        {
            // Every session, then a subset: the batch size changes from step to step.
            var members = step % 2 == 0 ? Enumerable.Range(0, sessions).ToArray() : [4, 0, 2];
            var expected = new List<float[]>();
            var rows = new List<DecodeRow>();
            foreach (var s in members)
            {
                var hidden = model.Embed([Token(s, step)]);
                model.ForwardBlocks(alone[s], 0, layers, hidden, 1);
                expected.Add(hidden);
                rows.Add(new DecodeRow(batched[s], model.Embed([Token(s, step)])));
            }

            model.ForwardDecodeBatch(rows, 0, layers);
            for (var r = 0; r < rows.Count; r++)
            {
                var s = members[r];
                Assert.True(Bits(expected[r]).SequenceEqual(Bits(rows[r].Hidden.ToArray())),
                    $"{type}: session {s} (position {batched[s].TokenCount(0) - 1}) differs from running alone at step {step} in a batch of {rows.Count}.");
                Assert.Equal(alone[s].TokenCount(0), batched[s].TokenCount(0));
            }
        }

        for (var s = 0; s < sessions; s++)
        {
            Assert.True(Bits(alone[s].Cache(layers - 1).Keys.ToArray()).SequenceEqual(Bits(batched[s].Cache(layers - 1).Keys.ToArray())), $"{type}: session {s}'s keys differ.");
        }
    }

    [Fact]
    public void A_batched_step_over_part_of_the_blocks_matches_running_that_range_alone()
    {
        var model = TestModels.Tiny();
        var alone = Enumerable.Range(0, 3).Select(s => Prefilled(model, s)).ToArray();
        var batched = Enumerable.Range(0, 3).Select(s => Prefilled(model, s)).ToArray();
        var rows = Enumerable.Range(0, 3).Select(s => new DecodeRow(batched[s], model.Embed([Token(s, 0)]))).ToArray();
        model.ForwardDecodeBatch(rows, 1, 2);
        for (var s = 0; s < 3; s++)
        {
            var hidden = model.Embed([Token(s, 0)]);
            model.ForwardBlocks(alone[s], 1, 2, hidden, 1);
            Assert.Equal(Bits(hidden), Bits(rows[s].Hidden.ToArray()));
            Assert.Equal(PromptLengths[s], batched[s].TokenCount(0)); // block 0 did not run
            Assert.Equal(PromptLengths[s] + 1, batched[s].TokenCount(2));
        }
    }

    [Fact]
    public void A_batch_with_a_session_whose_blocks_disagree_is_refused_before_any_cache_changes()
    {
        var model = TestModels.Tiny();
        var good = Prefilled(model, 2);
        var bad = Prefilled(model, 3);
        bad.Truncate(5, 1, 1);
        var error = Assert.Throws<InvalidOperationException>(() => model.ForwardDecodeBatch(
            [new DecodeRow(good, model.Embed([1])), new DecodeRow(bad, model.Embed([2]))], 0, model.Config.LayerCount));
        Assert.Contains("Block 1", error.Message, StringComparison.Ordinal);
        Assert.Equal(PromptLengths[2], good.TokenCount(0));
        Assert.Equal(PromptLengths[3], bad.TokenCount(0));
    }

    [Fact]
    public void A_batch_naming_one_session_twice_is_refused()
    {
        var model = TestModels.Tiny();
        var session = Prefilled(model, 1);
        Assert.Throws<ArgumentException>(() => model.ForwardDecodeBatch(
            [new DecodeRow(session, model.Embed([1])), new DecodeRow(session, model.Embed([2]))], 0, model.Config.LayerCount));
        Assert.Equal(PromptLengths[1], session.TokenCount(0));
    }

    [Fact]
    public async Task Concurrent_callers_are_batched_up_to_the_bound_and_each_gets_the_bits_of_running_alone()
    {
        var model = TestModels.Tiny();
        var layers = model.Config.LayerCount;
        var steps = new ConcurrentQueue<int>();
        const int sessions = 6;
        var alone = Enumerable.Range(0, sessions).Select(s => Prefilled(model, s)).ToArray();
        var batched = Enumerable.Range(0, sessions).Select(s => Prefilled(model, s)).ToArray();

        // A window far longer than the test: the first step runs because it is full, the second when the window ends.
        await using (var batcher = new DecodeBatcher(model, new DecodeBatchOptions { MaxBatch = 4, BatchWait = TimeSpan.FromMilliseconds(300) }, stepRan: steps.Enqueue))
        {
            var hidden = Enumerable.Range(0, sessions).Select(s => model.Embed([Token(s, 0)])).ToArray();
            var calls = Enumerable.Range(0, sessions).Select(s => batcher.ForwardAsync(batched[s], 0, layers, hidden[s])).ToArray();
            await Task.WhenAll(calls);
            for (var s = 0; s < sessions; s++)
            {
                var expected = model.Embed([Token(s, 0)]);
                model.ForwardBlocks(alone[s], 0, layers, expected, 1);
                Assert.Equal(Bits(expected), Bits(hidden[s]));
            }
        }

        Assert.Equal([4, 2], steps.ToArray());
    }

    [Fact]
    public async Task Two_tokens_of_one_session_queued_together_run_in_order_in_separate_steps()
    {
        var model = TestModels.Tiny();
        var layers = model.Config.LayerCount;
        var steps = new ConcurrentQueue<int>();
        var alone = Prefilled(model, 4);
        var batched = Prefilled(model, 4);
        var other = Prefilled(model, 1);
        await using var batcher = new DecodeBatcher(model, new DecodeBatchOptions { MaxBatch = 3, BatchWait = TimeSpan.FromMilliseconds(300) }, stepRan: steps.Enqueue);
        float[] first = model.Embed([10]), second = model.Embed([11]), third = model.Embed([12]);
        await Task.WhenAll(
            batcher.ForwardAsync(batched, 0, layers, first),
            batcher.ForwardAsync(batched, 0, layers, second),
            batcher.ForwardAsync(other, 0, layers, third));

        float[] expectedFirst = model.Embed([10]), expectedSecond = model.Embed([11]);
        model.ForwardBlocks(alone, 0, layers, expectedFirst, 1);
        model.ForwardBlocks(alone, 0, layers, expectedSecond, 1);
        Assert.Equal(Bits(expectedFirst), Bits(first));
        Assert.Equal(Bits(expectedSecond), Bits(second));
        Assert.Equal(PromptLengths[4] + 2, batched.TokenCount(0));
        Assert.Equal([2, 1], steps.ToArray());
    }

    [Fact]
    public async Task A_token_the_model_refuses_fails_alone_and_the_rest_of_its_step_runs()
    {
        var model = TestModels.Tiny();
        var layers = model.Config.LayerCount;
        var good = Prefilled(model, 2);
        var bad = Prefilled(model, 3);
        bad.Truncate(5, 2, 1);
        await using var batcher = new DecodeBatcher(model, new DecodeBatchOptions { MaxBatch = 2, BatchWait = TimeSpan.FromMilliseconds(300) });
        var refused = batcher.ForwardAsync(bad, 0, layers, model.Embed([1]));
        var ran = batcher.ForwardAsync(good, 0, layers, model.Embed([2]));
        await Assert.ThrowsAsync<InvalidOperationException>(() => refused);
        await ran;
        Assert.Equal(PromptLengths[2] + 1, good.TokenCount(0));
        Assert.Equal(PromptLengths[3], bad.TokenCount(0));
    }

    [Fact]
    public async Task A_broken_worker_fails_every_token_it_holds_instead_of_leaving_it_waiting()
    {
        var model = TestModels.Tiny();
        var layers = model.Config.LayerCount;
        var batched = Prefilled(model, 4);
        var other = Prefilled(model, 1);
        var broken = new InvalidOperationException("the step metric failed");
        var batcher = new DecodeBatcher(model, new DecodeBatchOptions { MaxBatch = 3, BatchWait = TimeSpan.FromMilliseconds(300) }, stepRan: _ => throw broken);
        var first = batcher.ForwardAsync(batched, 0, layers, model.Embed([10]));
        var second = batcher.ForwardAsync(batched, 0, layers, model.Embed([11])); // the same session: held for the next step
        var third = batcher.ForwardAsync(other, 0, layers, model.Embed([12]));
        foreach (var token in new[] { first, second, third }) // the step's two, then the one held for the next step
        {
            Assert.Same(broken, await Assert.ThrowsAsync<InvalidOperationException>(() => token.WaitAsync(TimeSpan.FromSeconds(30))));
        }

        Assert.Same(broken, await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.DisposeAsync().AsTask()));
        Assert.Equal(PromptLengths[4] + 1, batched.TokenCount(0));
    }

    [Fact]
    public async Task A_disposed_batcher_refuses_new_tokens_and_the_bounds_are_validated()
    {
        var model = TestModels.Tiny();
        var batcher = new DecodeBatcher(model);
        await batcher.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => { _ = batcher.ForwardAsync(model.CreateSession(), 0, 1, model.Embed([1])); }); // thrown, not faulted
        Assert.Throws<ArgumentOutOfRangeException>(() => new DecodeBatchOptions { MaxBatch = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new DecodeBatchOptions { BatchWait = TimeSpan.FromMilliseconds(-1) }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new DecodeBatchOptions { BatchWait = TimeSpan.FromSeconds(2) }.Validate());
    }
}
