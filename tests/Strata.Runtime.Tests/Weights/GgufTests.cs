using Strata.Core;
using Strata.Core.Identity;
using Strata.Core.Models;
using Strata.Runtime.Engine;
using Strata.Runtime.Kernels;
using Strata.Runtime.Weights;
using Strata.Runtime.Weights.Gguf;

namespace Strata.Runtime.Tests.Weights;

public sealed class GgufTests
{
    [Fact]
    public void An_f32_gguf_of_a_model_computes_the_same_bits_as_its_safetensors()
    {
        var source = TestModels.TinyDirectory();
        var target = TestModels.NewDirectory();
        GgufModelWriter.Write(source, Path.Combine(target, "model.gguf"), GgmlType.F32);

        var config = ModelFolder.LoadConfig(target);
        var expectedConfig = ModelFolder.LoadConfig(source);
        Assert.Equal(expectedConfig.Architecture.HiddenSize, config.Architecture.HiddenSize);
        Assert.Equal(expectedConfig.Architecture.KeyValueHeadCount, config.Architecture.KeyValueHeadCount);
        Assert.Equal(expectedConfig.Architecture.IntermediateSize, config.Architecture.IntermediateSize);
        Assert.Equal(expectedConfig.Architecture.VocabularySize, config.Architecture.VocabularySize);
        Assert.Equal(expectedConfig.Architecture.TiedEmbeddings, config.Architecture.TiedEmbeddings);
        Assert.Equal(expectedConfig.RopeTheta, config.RopeTheta);
        Assert.Equal((float)expectedConfig.RmsNormEpsilon, (float)config.RmsNormEpsilon);

        var fromGguf = ModelFolder.LoadModel(target);
        var reference = TestModels.Tiny();
        int[] tokens = [5, 9, 200, 17, 3, 3, 101];
        Assert.Equal(Logits(reference, tokens), Logits(fromGguf, tokens));
        Assert.IsType<PackedMatrix>(fromGguf.Weights.Block(0).QueryProjection);
    }

    [Fact]
    public void Query_and_key_rows_are_written_in_llama_cpp_order_and_read_back_in_hugging_face_order()
    {
        // The independent statement of convert_hf_to_gguf.py's permute: reshape (heads, 2, d/2, in), swap axes 1 and 2.
        const int Heads = 3, HeadDimension = 8, Inner = 4;
        var rows = Heads * HeadDimension;
        var hf = Enumerable.Range(0, rows * Inner).Select(i => (float)i).ToArray();
        var expected = new float[hf.Length];
        var target = 0;
        for (var head = 0; head < Heads; head++)
        {
            for (var i = 0; i < HeadDimension / 2; i++)
            {
                for (var half = 0; half < 2; half++)
                {
                    var source = (head * HeadDimension) + (half * (HeadDimension / 2)) + i;
                    hf.AsSpan(source * Inner, Inner).CopyTo(expected.AsSpan(target++ * Inner, Inner));
                }
            }
        }

        Assert.Equal(expected, GgufModelWriter.PermuteRows(hf, rows, Inner, HeadDimension));
        for (var row = 0; row < rows; row++)
        {
            Assert.Equal(row, GgufLlama.HuggingFaceRow(GgufLlama.GgufRow(row, HeadDimension), HeadDimension));
        }

        // In a written file: GGUF row 1 of attn_k is Hugging Face row headDim / 2 of k_proj.
        var directory = TestModels.TinyDirectory();
        var path = Path.Combine(TestModels.NewDirectory(), "model.gguf");
        GgufModelWriter.Write(directory, path, GgmlType.F32);
        using var safetensors = SafetensorsReader.Open(Path.Combine(directory, "model.safetensors"));
        var kInfo = safetensors.Tensors["model.layers.2.self_attn.k_proj.weight"];
        var k = new float[kInfo.ElementCount];
        safetensors.Read(kInfo, k);
        using var gguf = GgufReader.Open(path);
        var written = gguf.ReadFloats(gguf.Tensors["blk.2.attn_k.weight"]);
        var config = ModelPreset.Tiny.ToConfig();
        var (d, h) = (config.HeadDimension, config.HiddenSize);
        Assert.Equal(k.AsSpan(d / 2 * h, h).ToArray(), written.AsSpan(h, h).ToArray());
        Assert.Equal(k.AsSpan(0, h).ToArray(), written.AsSpan(0, h).ToArray());
    }

    [Fact]
    public void Metadata_values_of_every_type_round_trip()
    {
        var path = Path.Combine(TestModels.NewDirectory(), "values.gguf");
        new GgufWriter()
            .Add("u8", GgufValueType.UInt8, (byte)200)
            .Add("i8", GgufValueType.Int8, (sbyte)-100)
            .Add("u16", GgufValueType.UInt16, (ushort)60000)
            .Add("i16", GgufValueType.Int16, (short)-30000)
            .Add("u32", 4_000_000_000u)
            .Add("i32", GgufValueType.Int32, -2_000_000_000)
            .Add("f32", 1.5f)
            .Add("bool", GgufValueType.Bool, true)
            .Add("text", "héllo")
            .Add("u64", GgufValueType.UInt64, 1UL << 40)
            .Add("i64", GgufValueType.Int64, -(1L << 40))
            .Add("f64", GgufValueType.Float64, Math.PI)
            .Add("strings", GgufValueType.Array, new GgufArray(GgufValueType.String, ["a", "", "ccc"]))
            .Add("ints", GgufValueType.Array, new GgufArray(GgufValueType.Int32, [1, -2, 3]))
            .AddTensor("t", GgmlType.F16, [2, 3], () => GgufModelWriter.Encode([1, 2, 3, 4, 5, 6], 3, GgmlType.F16))
            .Write(path);
        using var reader = GgufReader.Open(path);
        Assert.Equal(3u, reader.Version);
        Assert.Equal(200L, reader.Integer("u8"));
        Assert.Equal(-100L, reader.Integer("i8"));
        Assert.Equal(60000L, reader.Integer("u16"));
        Assert.Equal(-30000L, reader.Integer("i16"));
        Assert.Equal(4_000_000_000L, reader.Integer("u32"));
        Assert.Equal(-2_000_000_000L, reader.Integer("i32"));
        Assert.Equal(1.5, reader.Number("f32"));
        Assert.Equal(true, reader.Metadata["bool"]);
        Assert.Equal("héllo", reader.Text("text"));
        Assert.Equal(1L << 40, reader.Integer("u64"));
        Assert.Equal(-(1L << 40), reader.Integer("i64"));
        Assert.Equal(Math.PI, reader.Number("f64"));
        Assert.Equal(["a", "", "ccc"], reader.Strings("strings"));
        Assert.Equal([1L, -2L, 3L], reader.Integers("ints")!);
        Assert.Null(reader.Integer("absent"));
        var tensor = reader.Tensors["t"];
        Assert.Equal([3L, 2L], tensor.Dimensions);
        Assert.Equal(0, (reader.DataStartBytes + tensor.OffsetBytes) % GgufReader.DefaultAlignment);
        Assert.Equal([1f, 2, 3, 4, 5, 6], reader.ReadFloats(tensor));
        var error = Assert.Throws<StrataException>(() => reader.Integer("text"));
        Assert.Contains("'text'", error.Message);
        Assert.Contains("expected an integer", error.Message);
    }

    [Fact]
    public void Tokenizer_metadata_is_read_with_its_special_ids()
    {
        var config = ModelPreset.Tiny.ToConfig() with { BosTokenId = 1, EosTokenIds = [2] };
        var tensors = RandomModelWriter.Generate(config, 3).ToDictionary(t => t.Name, t => t.Data);
        var path = Path.Combine(TestModels.NewDirectory(), "model.gguf");
        GgufModelWriter.Write(config, name => tensors[name], path, GgmlType.F32);
        using var reader = GgufReader.Open(path);
        var tokenizer = GgufTokenizerInfo.Read(reader);
        Assert.NotNull(tokenizer);
        Assert.Equal("llama", tokenizer.Model);
        Assert.Equal(config.VocabularySize, tokenizer.Tokens.Count);
        Assert.Equal("<0x41>", tokenizer.Tokens['A']);
        Assert.Equal(GgufTokenizerInfo.ByteTokenType, tokenizer.TokenTypes![0]);
        Assert.Equal(1, tokenizer.BosTokenId);
        Assert.Equal(2, tokenizer.EosTokenId);
        var read = GgufLlama.ReadConfig(reader);
        Assert.Equal(1, read.BosTokenId);
        Assert.Equal([2], read.EosTokenIds);
    }

    [Theory]
    [InlineData(GgmlType.Q8_0, 0.04)]
    [InlineData(GgmlType.Q4_0, 0.4)]
    public void A_quantized_gguf_stays_quantized_in_memory_and_stays_close_to_fp32(GgmlType type, double tolerance)
    {
        var config = QuantizableConfig();
        var tensors = RandomModelWriter.Generate(config, 7).ToDictionary(t => t.Name, t => t.Data);
        var directory = TestModels.NewDirectory();
        GgufModelWriter.Write(config, name => tensors[name], Path.Combine(directory, "model.gguf"), type);
        var quantized = ModelFolder.LoadModel(directory);
        var f32Directory = TestModels.NewDirectory();
        GgufModelWriter.Write(config, name => tensors[name], Path.Combine(f32Directory, "model.gguf"), GgmlType.F32);
        var reference = ModelFolder.LoadModel(f32Directory);

        var block = quantized.Weights.Block(1);
        foreach (var weight in new[] { block.QueryProjection, block.KeyProjection, block.DownProjection, quantized.Weights.LmHead! })
        {
            var matrix = Assert.IsType<QuantizedMatrix>(weight);
            Assert.Equal(type == GgmlType.Q8_0 ? QuantFormat.Q8_0 : QuantFormat.Q4_0, matrix.Format);
        }

        var fp32Bytes = (long)config.HiddenSize * config.HiddenSize * sizeof(float);
        Assert.True(block.QueryProjection.SizeBytes < fp32Bytes / (type == GgmlType.Q8_0 ? 3 : 6), $"{type} q_proj holds {block.QueryProjection.SizeBytes} bytes; fp32 holds {fp32Bytes}.");

        int[] tokens = [1, 50, 7, 220, 31, 31, 9, 100];
        var expected = Logits(reference, tokens);
        var actual = Logits(quantized, tokens);
        // Relative to the largest logit: random weights through three blocks amplify quantization noise, and the
        // bound is what ggml's blocks give on uniform random weights (measured: Q8_0 1.7%, Q4_0 21% of the largest logit).
        var scale = expected.Max(Math.Abs);
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= tolerance * scale, $"{type}: largest logit error {worst} is above {tolerance} of the largest logit {scale}.");
        Assert.True(worst > 0, $"{type}: quantized logits equal fp32 ones exactly; the weights were not quantized.");
    }

    [Fact]
    public void A_quantized_model_decodes_the_same_bits_one_token_at_a_time_as_in_one_prefill()
    {
        var config = QuantizableConfig();
        var tensors = RandomModelWriter.Generate(config, 8).ToDictionary(t => t.Name, t => t.Data);
        var directory = TestModels.NewDirectory();
        GgufModelWriter.Write(config, name => tensors[name], Path.Combine(directory, "model.gguf"), GgmlType.Q4_0);
        var model = ModelFolder.LoadModel(directory);
        int[] tokens = [4, 8, 15, 16, 23, 42];
        var prefill = Logits(model, tokens);

        var session = model.CreateSession();
        float[] last = [];
        foreach (var token in tokens)
        {
            var hidden = model.Embed([token]);
            model.ForwardBlocks(session, 0, config.LayerCount, hidden, 1);
            last = model.ComputeLastLogits(hidden, 1);
        }

        Assert.Equal(prefill, last);
    }

    [Fact]
    public void Corrupt_files_fail_with_one_sentence_naming_the_file_and_field()
    {
        var path = Path.Combine(TestModels.NewDirectory(), "model.gguf");
        GgufModelWriter.Write(TestModels.TinyDirectory(), path, GgmlType.F32);
        var bytes = File.ReadAllBytes(path);

        StrataException Open(byte[] content)
        {
            var bad = Path.Combine(TestModels.NewDirectory(), "bad.gguf");
            File.WriteAllBytes(bad, content);
            var error = Assert.Throws<StrataException>(() => GgufReader.Open(bad).Dispose());
            Assert.Contains(bad, error.Message);
            return error;
        }

        Assert.Contains("magic", Open([.. "GGML"u8, .. bytes[4..]]).Message);
        var version = (byte[])bytes.Clone();
        version[4] = 9;
        Assert.Contains("version is 9", Open(version).Message);
        Assert.Contains("truncated", Open(bytes[..(bytes.Length / 2)]).Message);
        Assert.Contains("truncated", Open(bytes[..100]).Message);
        var count = (byte[])bytes.Clone();
        count[8 + 7] = 0x7F; // tensor_count near 2^63
        Assert.Contains("tensor_count", Open(count).Message);
        Assert.Contains("does not exist", Assert.Throws<StrataException>(() => GgufReader.Open(path + ".missing")).Message);
    }

    [Fact]
    public void A_gguf_of_another_architecture_is_refused_by_name()
    {
        var path = Path.Combine(TestModels.NewDirectory(), "qwen.gguf");
        new GgufWriter().Add("general.architecture", "qwen2").Write(path);
        using var reader = GgufReader.Open(path);
        var error = Assert.Throws<StrataException>(() => GgufLlama.ReadConfig(reader));
        Assert.Contains("\"qwen2\"", error.Message);
    }

    // A tiny shape whose every inner dimension is a multiple of 32 (by default; of 256 with hidden 256 and intermediate
    // 512, for Q4_K's super-blocks), so every projection can be blocked.
    internal static LlamaConfig QuantizableConfig(int hiddenSize = 128, int intermediateSize = 256, string name = "quantizable") => new()
    {
        Architecture = new ModelArchitecture
        {
            Id = new ModelId(name),
            Name = name,
            HiddenSize = hiddenSize,
            LayerCount = 3,
            AttentionHeadCount = 4,
            KeyValueHeadCount = 2,
            IntermediateSize = intermediateSize,
            VocabularySize = 320,
            TiedEmbeddings = false,
            MaxContextTokens = 512,
            NativePrecision = Precision.Fp32,
        }.Validate(),
        RopeTheta = 10_000,
        RmsNormEpsilon = 1e-5,
    };

    internal static float[] Logits(LlamaModel model, int[] tokens)
    {
        var hidden = model.Embed(tokens);
        model.ForwardBlocks(model.CreateSession(), 0, model.Config.LayerCount, hidden, tokens.Length);
        return model.ComputeLastLogits(hidden, tokens.Length);
    }
}
