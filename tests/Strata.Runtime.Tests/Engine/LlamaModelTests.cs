using Strata.Core.Identity;
using Strata.Core.Models;
using Strata.Runtime.Engine;
using Strata.Runtime.Kernels;
using Strata.Runtime.Sampling;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Tests.Engine;

public sealed class LlamaModelTests
{
    private static readonly int[] Prompt = [72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100];

    private static float[] FullLogits(LlamaModel model, int[] tokens)
    {
        var session = model.CreateSession();
        var hidden = model.Embed(tokens);
        model.ForwardBlocks(session, 0, model.Config.LayerCount, hidden, tokens.Length);
        var logits = new float[tokens.Length * model.Config.VocabularySize];
        model.ComputeLogits(hidden, logits, tokens.Length);
        return logits;
    }

    private static float[] Step(LlamaModel model, InferenceSession session, int token)
    {
        var hidden = model.Embed([token]);
        model.ForwardBlocks(session, 0, model.Config.LayerCount, hidden, 1);
        return model.ComputeLastLogits(hidden, 1);
    }

    [Fact]
    public void Forward_pass_matches_the_naive_double_precision_reference()
    {
        var model = TestModels.Tiny();
        var expected = NaiveLlama.Logits(model, Prompt);
        var actual = FullLogits(model, Prompt);
        var v = model.Config.VocabularySize;
        for (var t = 0; t < Prompt.Length; t++)
        {
            TestData.AssertClose(expected[t].Select(x => (float)x).ToArray(), actual.AsSpan(t * v, v), 1e-4, $"position {t}");
        }
    }

    [Fact]
    public void Incremental_decode_with_the_kv_cache_equals_full_recompute()
    {
        var model = TestModels.Tiny();
        var v = model.Config.VocabularySize;
        var session = model.CreateSession();
        var hidden = model.Embed(Prompt[..4]);
        model.ForwardBlocks(session, 0, model.Config.LayerCount, hidden, 4);
        var sequence = Prompt[..4].ToList();
        for (var step = 4; step < Prompt.Length; step++)
        {
            var incremental = Step(model, session, Prompt[step]);
            sequence.Add(Prompt[step]);
            var full = FullLogits(model, [.. sequence]);
            TestData.AssertClose(full.AsSpan((sequence.Count - 1) * v, v), incremental, 1e-4, $"decode step {step}");

            // Stronger than the tolerance: each output element is summed in one order however tokens are batched.
            Assert.Equal(full.AsSpan((sequence.Count - 1) * v, v).ToArray(), incremental);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Running_two_block_ranges_equals_running_all_blocks_at_once(int split)
    {
        var model = TestModels.Tiny();
        var layers = model.Config.LayerCount;
        var whole = model.Embed(Prompt);
        model.ForwardBlocks(model.CreateSession(), 0, layers, whole, Prompt.Length);

        // Two sessions, as two block servers would hold them.
        var first = model.CreateSession();
        var second = model.CreateSession();
        var parts = model.Embed(Prompt);
        model.ForwardBlocks(first, 0, split, parts, Prompt.Length);
        model.ForwardBlocks(second, split, layers - split, parts, Prompt.Length);
        Assert.Equal(whole, parts);

        // And a decode step through the same two ranges matches one session.
        var single = model.CreateSession();
        model.ForwardBlocks(single, 0, layers, model.Embed(Prompt), Prompt.Length);
        var a = model.Embed([65]);
        model.ForwardBlocks(single, 0, layers, a, 1);
        var b = model.Embed([65]);
        model.ForwardBlocks(first, 0, split, b, 1);
        model.ForwardBlocks(second, split, layers - split, b, 1);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Kv_export_and_import_into_a_fresh_session_continues_identically()
    {
        var model = TestModels.Tiny();
        var prefill = model.CreateSession();
        model.ForwardBlocks(prefill, 0, model.Config.LayerCount, model.Embed(Prompt), Prompt.Length);
        var decode = model.CreateSession();
        for (var block = 0; block < model.Config.LayerCount; block++)
        {
            decode.Import(prefill.Export(block));
        }

        for (var token = 33; token < 38; token++)
        {
            Assert.Equal(Step(model, prefill, token), Step(model, decode, token));
        }

        Assert.Equal(prefill.KvSizeBytes, decode.KvSizeBytes);
    }

    [Fact]
    public void Truncation_then_replay_reproduces_the_same_logits()
    {
        var model = TestModels.Tiny();
        var session = model.CreateSession();
        model.ForwardBlocks(session, 0, model.Config.LayerCount, model.Embed(Prompt), Prompt.Length);
        var before = Step(model, session, 50);
        session.Truncate(Prompt.Length);
        Assert.Equal(before, Step(model, session, 50));
        Assert.Equal(Prompt.Length + 1, session.TokenCount(0));
    }

    [Fact]
    public void A_range_whose_blocks_disagree_on_cached_tokens_is_refused()
    {
        var model = TestModels.Tiny();
        var session = model.CreateSession();
        model.ForwardBlocks(session, 0, 1, model.Embed(Prompt), Prompt.Length);
        var error = Assert.Throws<InvalidOperationException>(() => model.ForwardBlocks(session, 0, 2, model.Embed([1]), 1));
        Assert.Contains("Block 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Greedy_generation_of_the_tiny_model_is_deterministic_and_matches_across_fresh_loads()
    {
        var options = new GenerationOptions { MaxNewTokens = 12 };
        var first = await new TextGenerator(TestModels.Tiny(), new LocalBlockChain(TestModels.Tiny())).GenerateAsync(Prompt, options);
        var reloaded = ModelFolder.LoadModel(TestModels.TinyDirectory());
        var second = await new TextGenerator(reloaded, new LocalBlockChain(reloaded)).GenerateAsync(Prompt, options);
        Assert.Equal(first.Tokens, second.Tokens);
        Assert.Equal(12, first.Tokens.Count);
        Assert.Equal("local", Assert.Single(first.Route).Server);

        // Greedy decoding picks the argmax of the full-recompute logits at every step.
        var sequence = Prompt.ToList();
        var v = reloaded.Config.VocabularySize;
        foreach (var token in first.Tokens)
        {
            var logits = FullLogits(reloaded, [.. sequence]);
            Assert.Equal(TokenSampler.ArgMax(logits.AsSpan((sequence.Count - 1) * v, v)), token);
            sequence.Add(token);
        }
    }

    [Fact]
    public async Task Same_seed_gives_the_same_sampled_tokens_and_another_seed_differs()
    {
        var model = TestModels.Tiny();
        async Task<IReadOnlyList<int>> Run(ulong seed) => (await new TextGenerator(model, new LocalBlockChain(model))
            .GenerateAsync(Prompt, new GenerationOptions { MaxNewTokens = 24, Sampling = new SamplingOptions { Temperature = 1.5, TopP = 0.95, Seed = seed } })).Tokens;
        Assert.Equal(await Run(7), await Run(7));
        Assert.NotEqual(await Run(7), await Run(8));
    }

    [Fact]
    public async Task Generation_stops_at_the_stop_token()
    {
        var model = TestModels.Tiny();
        var generator = new TextGenerator(model, new LocalBlockChain(model));
        var free = await generator.GenerateAsync(Prompt, new GenerationOptions { MaxNewTokens = 8 });
        var stopped = await generator.GenerateAsync(Prompt, new GenerationOptions { MaxNewTokens = 8, StopTokenIds = [free.Tokens[2]] });
        Assert.Equal(free.Tokens.Take(free.Tokens.ToList().IndexOf(free.Tokens[2]) + 1), stopped.Tokens);
    }

    [Fact]
    public void One_token_one_block_case_matches_the_closed_form()
    {
        // hidden 4, 2 heads of width 2 sharing 1 KV head, MLP zeroed. One token at position 0: rope is the
        // identity and attention over one key returns its value, so the block adds Wo [v, v] with v = Wv n.
        const double Epsilon = 1e-6;
        var config = new LlamaConfig
        {
            Architecture = new ModelArchitecture
            {
                Id = new ModelId("hand"),
                Name = "hand",
                HiddenSize = 4,
                LayerCount = 1,
                AttentionHeadCount = 2,
                KeyValueHeadCount = 1,
                IntermediateSize = 2,
                VocabularySize = 3,
                TiedEmbeddings = true,
            },
            RmsNormEpsilon = Epsilon,
        };
        float[] embedding = [1, 2, 3, 4, 0, 1, 0, -1, 2, 2, 2, 2];
        float[] identity = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
        var block = new BlockWeights
        {
            QueryProjection = PackedMatrix.Pack(TestData.Random(16, 1), 4, 4),
            KeyProjection = PackedMatrix.Pack(TestData.Random(8, 2), 2, 4),
            ValueProjection = PackedMatrix.Pack([1, 0, 0, 0, 0, 0, 0, 1], 2, 4),   // v = (n0, n3)
            OutputProjection = PackedMatrix.Pack(identity, 4, 4),
            GateProjection = PackedMatrix.Pack(new float[8], 2, 4),
            UpProjection = PackedMatrix.Pack(new float[8], 2, 4),
            DownProjection = PackedMatrix.Pack(new float[8], 4, 2),
            InputNorm = [1, 1, 1, 1],
            PostAttentionNorm = [1, 1, 1, 1],
        };
        var model = new LlamaModel(config, new LlamaWeights(0, [block], null, [1, 1, 1, 1], PackedMatrix.Pack(embedding, 3, 4), embeddingIsHead: true));
        var hidden = model.Embed([0]);
        model.ForwardBlocks(model.CreateSession(), 0, 1, hidden, 1);

        var rms = Math.Sqrt((1 + 4 + 9 + 16) / 4.0 + Epsilon);
        double[] after = [1 + 1 / rms, 2 + 4 / rms, 3 + 1 / rms, 4 + 4 / rms]; // x + [n0, n3, n0, n3]
        Assert.Equal(after.Select(x => (float)x).ToArray(), hidden, (e, a) => Math.Abs(e - a) < 1e-5);

        var finalRms = Math.Sqrt(after.Sum(x => x * x) / 4 + Epsilon);
        var expected = new float[3];
        for (var token = 0; token < 3; token++)
        {
            expected[token] = (float)Enumerable.Range(0, 4).Sum(i => after[i] / finalRms * embedding[token * 4 + i]);
        }

        TestData.AssertClose(expected, model.ComputeLastLogits(hidden, 1), 1e-5, "closed-form logits");
    }
}
