using Strata.Runtime.Engine;
using Strata.Runtime.Kernels;
using Strata.Runtime.Weights;
using Strata.Runtime.Weights.Gguf;
using Xunit.Abstractions;

namespace Strata.Runtime.Tests.Weights;

/// <summary>Q4_K (ggml's block_q4_K) files: read back and against fp32. Strata's blocks and greedy tokens against llama.cpp's are cases of <see cref="Oracle.LlamaCppOracleTests"/>.</summary>
public sealed class Q4KFileTests(ITestOutputHelper output)
{
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
        var reference = Oracle.LlamaCppOracleTests.Forward(ModelFolder.LoadModel(f32Directory), null, tokens);
        var actual = Oracle.LlamaCppOracleTests.Forward(quantized, null, tokens);

        // As the Q4_0 test in GgufTests: random weights through three blocks amplify quantization noise; Q4_K's
        // per-32 scales and mins should do no worse than Q4_0's bound there, 40% of the largest logit.
        var worst = reference.Zip(actual, (e, a) => Math.Abs(e - a)).Max() / reference.Max(Math.Abs);
        output.WriteLine($"Q4_K against fp32: largest logit difference {worst:P1} of the largest logit.");
        Assert.True(worst is > 0 and < 0.4f, $"Q4_K logits differ from fp32 by {worst:P1} of the largest logit.");
    }

    /// <summary>A model whose every matrix has an inner dimension that is a multiple of 256 (Q4_K's super-block).</summary>
    internal static LlamaConfig KQuantizableConfig() => GgufTests.QuantizableConfig(hiddenSize: 256, intermediateSize: 512, name: "k-quantizable");
}
