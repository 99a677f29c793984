using LLama.Native;
using Strata.Core.Identity;
using Strata.Core.Models;
using Strata.Runtime.Engine;
using Strata.Runtime.Kernels;
using Strata.Runtime.Weights;
using Strata.Runtime.Weights.Gguf;
using Xunit.Abstractions;

namespace Strata.Runtime.Tests.Oracle;

/// <summary>Q4_K (ggml's block_q4_K): Strata's blocks equal llama.cpp's, and both engines run a Q4_K file alike.</summary>
[Trait("Category", "LlamaCpp")]
public sealed class LlamaCppQ4KOracleTests(ITestOutputHelper output)
{
    private const int GeneratedTokens = 24;

    /// <summary>
    /// Both engines quantize each 256-value activation block to Q8_K the same way (quantize_row_q8_K_ref) and form
    /// exact integer super-block sums; what differs is the float accumulation of the two terms per super-block
    /// (ggml in vector lanes, Strata in one chain), as for Q4_0, so the bound is the Q4_0 test's 1e-5 of the largest
    /// logit. A code flipped by a rounding tie would move a logit by about 1e-3 and fail it.
    /// </summary>
    [Fact]
    public void Strata_and_llama_cpp_give_the_same_greedy_tokens_and_close_logits_on_a_q4_k_file()
    {
        const double Tolerance = 1e-5;
        var config = KQuantizableConfig();
        var tensors = RandomModelWriter.Generate(config, 23).ToDictionary(t => t.Name, t => t.Data);
        var directory = TestModels.NewDirectory();
        var path = Path.Combine(directory, "model.gguf");
        GgufModelWriter.Write(config, name => tensors[name], path, GgmlType.Q4_K);
        var strata = ModelFolder.LoadModel(directory);
        Assert.IsType<Q4KMatrix>(strata.Weights.Block(0).QueryProjection);
        Assert.IsType<Q4KMatrix>(strata.Weights.LmHead);
        using var llama = new LlamaCppEngine(path, threads: 2);

        int[] prompt = [1, 17, 250, 3, 99, 42, 42, 7, 300, 12, 64, 5];
        var session = strata.CreateSession();
        var expected = llama.Feed(prompt);
        var actual = LlamaCppOracleTests.Forward(strata, session, prompt);
        var worst = 0.0;
        var strataTokens = new List<int>();
        var llamaTokens = new List<int>();
        for (var step = 0; ; step++)
        {
            var scale = expected.Max(Math.Abs);
            var error = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max() / scale;
            worst = Math.Max(worst, error);
            Assert.True(error <= Tolerance, $"Q4_K step {step}: largest logit difference is {error:E2} of the largest logit; the tolerance is {Tolerance:E0}.");
            strataTokens.Add(LlamaCppOracleTests.ArgMax(actual));
            llamaTokens.Add(LlamaCppOracleTests.ArgMax(expected));
            Assert.Equal(llamaTokens, strataTokens);
            if (step == GeneratedTokens)
            {
                break;
            }

            expected = llama.Feed([llamaTokens[^1]]);
            actual = LlamaCppOracleTests.Forward(strata, session, [strataTokens[^1]]);
        }

        Assert.True(strataTokens.Distinct().Count() > 3, $"Greedy decoding produced {string.Join(", ", strataTokens)}: too few distinct tokens to test anything.");
        output.WriteLine($"Q4_K: {strataTokens.Count} greedy tokens equal; largest logit difference {worst:E2} of the largest logit.");
    }

    [Fact]
    public void Llama_cpp_quantizes_to_the_same_q4_k_bytes_and_strata_runs_its_file_alike()
    {
        var config = KQuantizableConfig();
        var tensors = RandomModelWriter.Generate(config, 24).ToDictionary(t => t.Name, t => t.Data);
        var f32Path = Path.Combine(TestModels.NewDirectory(), "model.gguf");
        GgufModelWriter.Write(config, name => tensors[name], f32Path, GgmlType.F32);
        var oursDirectory = TestModels.NewDirectory();
        GgufModelWriter.Write(config, name => tensors[name], Path.Combine(oursDirectory, "model.gguf"), GgmlType.Q4_K);
        var theirsDirectory = TestModels.NewDirectory();
        var theirsPath = Path.Combine(theirsDirectory, "model.gguf");

        // llama.cpp's own quantizer, every matrix Q4_K (pure), no importance matrix: quantize_row_q4_K_ref.
        LlamaCppEngine.Quiet();
        var parameters = LLamaModelQuantizeParams.Default();
        parameters.ftype = LLamaFtype.MOSTLY_Q4_K_S;
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
                Assert.True(firstDifference == a.Length && a.Length == b.Length, $"Q4_K tensor '{tensor.Name}': Strata's blocks differ from llama.cpp's first at byte {firstDifference} (super-block {firstDifference / Q4KBlocks.BlockBytes}, byte {firstDifference % Q4KBlocks.BlockBytes}).");
                compared += tensor.Type == GgmlType.Q4_K ? 1 : 0;
            }

            Assert.Equal((config.LayerCount * 7) + 2, compared);
        }

        int[] tokens = [3, 1, 4, 1, 5, 9, 2, 6];
        Assert.Equal(
            LlamaCppOracleTests.Forward(ModelFolder.LoadModel(oursDirectory), null, tokens),
            LlamaCppOracleTests.Forward(ModelFolder.LoadModel(theirsDirectory), null, tokens));
    }

    [Fact]
    public void A_q4_k_file_reads_back_dequantized_and_stays_close_to_fp32()
    {
        var config = KQuantizableConfig();
        var tensors = RandomModelWriter.Generate(config, 25).ToDictionary(t => t.Name, t => t.Data);
        var directory = TestModels.NewDirectory();
        var path = Path.Combine(directory, "model.gguf");
        GgufModelWriter.Write(config, name => tensors[name], path, GgmlType.Q4_K);
        using (var reader = GgufReader.Open(path))
        {
            var info = reader.Tensors[GgufLlama.BlockTensorName(1, "mlp.down_proj.weight")];
            Assert.Equal(GgmlType.Q4_K, info.Type);
            var raw = new byte[info.SizeBytes];
            reader.ReadBytes(info, 0, raw);
            var expected = new float[info.ElementCount];
            var rowBytes = (int)Q4KBlocks.RowBytes(config.IntermediateSize);
            for (var r = 0; r < expected.Length / config.IntermediateSize; r++)
            {
                Q4KBlocks.DequantizeRow(raw.AsSpan(r * rowBytes, rowBytes), expected.AsSpan(r * config.IntermediateSize, config.IntermediateSize));
            }

            Assert.Equal(expected, reader.ReadFloats(info));
        }

        var quantized = ModelFolder.LoadModel(directory);
        var fp32Bytes = (long)config.HiddenSize * config.HiddenSize * sizeof(float);
        Assert.True(quantized.Weights.Block(1).QueryProjection.SizeBytes < fp32Bytes / 6, $"q4_k q_proj holds {quantized.Weights.Block(1).QueryProjection.SizeBytes} bytes; fp32 holds {fp32Bytes}.");
        var f32Directory = TestModels.NewDirectory();
        GgufModelWriter.Write(config, name => tensors[name], Path.Combine(f32Directory, "model.gguf"), GgmlType.F32);
        int[] tokens = [1, 50, 7, 220, 31, 31, 9, 100];
        var reference = LlamaCppOracleTests.Forward(ModelFolder.LoadModel(f32Directory), null, tokens);
        var actual = LlamaCppOracleTests.Forward(quantized, null, tokens);

        // As the Q4_0 test in GgufTests: random weights through three blocks amplify quantization noise; Q4_K's
        // per-32 scales and mins should do no worse than Q4_0's bound there, 40% of the largest logit.
        var worst = reference.Zip(actual, (e, a) => Math.Abs(e - a)).Max() / reference.Max(Math.Abs);
        output.WriteLine($"Q4_K against fp32: largest logit difference {worst:P1} of the largest logit.");
        Assert.True(worst is > 0 and < 0.4f, $"Q4_K logits differ from fp32 by {worst:P1} of the largest logit.");
    }

    /// <summary>A model whose every matrix has an inner dimension that is a multiple of 256 (Q4_K's super-block).</summary>
    internal static LlamaConfig KQuantizableConfig() => new()
    {
        Architecture = new ModelArchitecture
        {
            Id = new ModelId("k-quantizable"),
            Name = "k-quantizable",
            HiddenSize = 256,
            LayerCount = 3,
            AttentionHeadCount = 4,
            KeyValueHeadCount = 2,
            IntermediateSize = 512,
            VocabularySize = 320,
            TiedEmbeddings = false,
            MaxContextTokens = 512,
            NativePrecision = Precision.Fp32,
        }.Validate(),
        RopeTheta = 10_000,
        RmsNormEpsilon = 1e-5,
    };
}
