using LLama.Native;
using Strata.Runtime.Engine;
using Strata.Runtime.Kernels;
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
    [InlineData(GgmlType.Q4_K, 1e-5)]
    public void Strata_and_llama_cpp_give_the_same_greedy_tokens_and_close_logits(GgmlType type, double tolerance)
    {
        var config = ConfigFor(type);
        var tensors = RandomModelWriter.Generate(config, 21).ToDictionary(t => t.Name, t => t.Data);
        var directory = TestModels.NewDirectory();
        var path = Path.Combine(directory, "model.gguf");
        GgufModelWriter.Write(config, name => tensors[name], path, type);
        var strata = ModelFolder.LoadModel(directory);
        if (type == GgmlType.Q4_K)
        {
            Assert.IsType<Q4KMatrix>(strata.Weights.Block(0).QueryProjection);
            Assert.IsType<Q4KMatrix>(strata.Weights.LmHead);
        }

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

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_K)]
    public void Llama_cpp_quantizes_to_the_same_bytes_and_strata_runs_its_file_alike(GgmlType type)
    {
        var config = ConfigFor(type);
        var tensors = RandomModelWriter.Generate(config, 22).ToDictionary(t => t.Name, t => t.Data);
        var f32Path = Path.Combine(TestModels.NewDirectory(), "model.gguf");
        GgufModelWriter.Write(config, name => tensors[name], f32Path, GgmlType.F32);
        var oursDirectory = TestModels.NewDirectory();
        GgufModelWriter.Write(config, name => tensors[name], Path.Combine(oursDirectory, "model.gguf"), type);
        var theirsDirectory = TestModels.NewDirectory();
        var theirsPath = Path.Combine(theirsDirectory, "model.gguf");

        // llama.cpp's own quantizer (llama_model_quantize, every matrix in one type) on the F32 file.
        LlamaCppEngine.Quiet();
        var parameters = LLamaModelQuantizeParams.Default();
        parameters.ftype = type switch
        {
            GgmlType.Q8_0 => LLamaFtype.MOSTLY_Q8_0,
            GgmlType.Q4_0 => LLamaFtype.MOSTLY_Q4_0,
            _ => LLamaFtype.MOSTLY_Q4_K_S, // with pure: every matrix Q4_K (quantize_row_q4_K_ref, no importance matrix)
        };
        parameters.pure = true;
        parameters.nthread = 1;
        var status = NativeApi.llama_model_quantize(f32Path, theirsPath, ref parameters);
        Assert.True(status == 0, $"llama_model_quantize returned {status}.");

        using (var ours = GgufReader.Open(Path.Combine(oursDirectory, "model.gguf")))
        using (var theirs = GgufReader.Open(theirsPath))
        {
            var compared = 0;
            foreach (var tensor in ours.TensorList)
            {
                var other = theirs.Tensors[tensor.Name];
                Assert.Equal(tensor.Type, other.Type);
                Assert.Equal(tensor.Dimensions, other.Dimensions);
                var a = new byte[tensor.SizeBytes];
                var b = new byte[other.SizeBytes];
                ours.ReadBytes(tensor, 0, a);
                theirs.ReadBytes(other, 0, b);
                var firstDifference = a.AsSpan().CommonPrefixLength(b);
                Assert.True(firstDifference == a.Length && a.Length == b.Length, $"{type} tensor '{tensor.Name}': Strata's blocks differ from llama.cpp's first at byte {firstDifference}.");
                compared += tensor.Type == type ? 1 : 0;
            }

            Assert.Equal((config.LayerCount * 7) + 2, compared);
        }

        int[] tokens = [3, 1, 4, 1, 5, 9, 2, 6];
        Assert.Equal(
            Forward(ModelFolder.LoadModel(oursDirectory), null, tokens),
            Forward(ModelFolder.LoadModel(theirsDirectory), null, tokens));
    }

    // Q4_K's super-blocks need inner dimensions that are multiples of 256; the others, of 32.
    private static LlamaConfig ConfigFor(GgmlType type) => type == GgmlType.Q4_K ? Q4KFileTests.KQuantizableConfig() : GgufTests.QuantizableConfig();

    internal static float[] Forward(LlamaModel model, InferenceSession? session, int[] tokens)
    {
        var hidden = model.Embed(tokens);
        model.ForwardBlocks(session ?? model.CreateSession(), 0, model.Config.LayerCount, hidden, tokens.Length);
        return model.ComputeLastLogits(hidden, tokens.Length);
    }

    internal static int ArgMax(float[] values)
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
