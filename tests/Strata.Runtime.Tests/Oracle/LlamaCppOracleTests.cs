using Strata.Runtime.Engine;
using Strata.Runtime.Tests.Weights;
using Strata.Runtime.Weights;
using Strata.Runtime.Weights.Gguf;
using Xunit.Abstractions;

namespace Strata.Runtime.Tests.Oracle;

/// <summary>Strata and llama.cpp run the same GGUF file on the same token ids and must agree.</summary>
[Trait("Category", "LlamaCpp")]
public sealed class LlamaCppOracleTests(ITestOutputHelper output)
{
    private const int GeneratedTokens = 24;

    /// <summary>
    /// Tolerances, relative to the largest logit, from what differs between the engines. F32: only the order of
    /// float accumulation (ggml sums in vector lanes, Strata in one chain per output), about one rounding of 6e-8
    /// per add compounded through three blocks and the head; measured 1.2e-6, bound 1e-5. Q8_0 and Q4_0: both
    /// engines quantize each activation block to Q8_0 the same way (d = amax / 127 rounded to fp16, codes rounded to
    /// nearest even) and form exact integer block sums, so again only the float accumulation of block sums
    /// differs; measured 1.5e-7 (Q8_0) and 0 (Q4_0), bound 1e-5. A code flipped by a tie rounding differently
    /// would move a logit by about d_x |w| (1e-3 here) and fail the test: that is the intended sensitivity.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.F32, 1e-5)]
    [InlineData(GgmlType.Q8_0, 1e-5)]
    [InlineData(GgmlType.Q4_0, 1e-5)]
    public void Strata_and_llama_cpp_give_the_same_greedy_tokens_and_close_logits(GgmlType type, double tolerance)
    {
        var config = GgufTests.QuantizableConfig();
        var tensors = RandomModelWriter.Generate(config, 21).ToDictionary(t => t.Name, t => t.Data);
        var directory = TestModels.NewDirectory();
        var path = Path.Combine(directory, "model.gguf");
        GgufModelWriter.Write(config, name => tensors[name], path, type);
        var strata = ModelFolder.LoadModel(directory);
        using var llama = new LlamaCppEngine(path, threads: 2);
        Assert.Equal(config.VocabularySize, llama.VocabularySize);

        int[] prompt = [1, 17, 250, 3, 99, 42, 42, 7, 300, 12, 64, 5];
        var session = strata.CreateSession();
        var expected = llama.Feed(prompt);
        var actual = Forward(strata, session, prompt);
        var worst = 0.0;
        var strataTokens = new List<int>();
        var llamaTokens = new List<int>();
        for (var step = 0; ; step++)
        {
            var scale = expected.Max(Math.Abs);
            var error = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max() / scale;
            worst = Math.Max(worst, error);
            Assert.True(error <= tolerance, $"{type} step {step}: largest logit difference is {error:E2} of the largest logit; the tolerance is {tolerance:E0}.");
            strataTokens.Add(ArgMax(actual));
            llamaTokens.Add(ArgMax(expected));
            Assert.Equal(llamaTokens, strataTokens);
            if (step == GeneratedTokens)
            {
                break;
            }

            expected = llama.Feed([llamaTokens[^1]]);
            actual = Forward(strata, session, [strataTokens[^1]]);
        }

        Assert.True(strataTokens.Distinct().Count() > 3, $"Greedy decoding produced {string.Join(", ", strataTokens)}: too few distinct tokens to test anything.");
        output.WriteLine($"{type}: {strataTokens.Count} greedy tokens equal; largest logit difference {worst:E2} of the largest logit.");
    }

    private static float[] Forward(LlamaModel model, InferenceSession session, int[] tokens)
    {
        var hidden = model.Embed(tokens);
        model.ForwardBlocks(session, 0, model.Config.LayerCount, hidden, tokens.Length);
        return model.ComputeLastLogits(hidden, tokens.Length);
    }

    private static int ArgMax(float[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
