using System.Runtime.InteropServices;
using Strata.Core;
using Strata.Runtime.Engine;
using Strata.Runtime.Kernels;

namespace Strata.Runtime.Weights.Gguf;

/// <summary>Writes a Llama model as a llama.cpp-compatible GGUF file: llama metadata, a byte-level vocabulary, and weights of one type.</summary>
/// <remarks>
/// Projections, the embedding and the head take the requested type; norms stay F32 (as llama.cpp writes them). A
/// quantized type falls back to F32 for a tensor whose inner dimension is not a multiple of its block (32; 256 for
/// Q4_K), which ggml cannot block.
/// The query and key rows are permuted into llama.cpp's order (see <see cref="GgufLlama"/>).
/// </remarks>
public static class GgufModelWriter
{
    /// <summary>The types a model can be written in.</summary>
    public static IReadOnlyList<GgmlType> WeightTypes { get; } = [GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K];

    /// <summary>Parses a weight type name (<c>f32</c>, <c>f16</c>, <c>q8_0</c>, <c>q4_0</c>, <c>q4_k</c>).</summary>
    /// <exception cref="StrataException">The name is none of them.</exception>
    public static GgmlType ParseType(string name, string option)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var type in WeightTypes)
        {
            if (string.Equals(type.ToString(), name, StringComparison.OrdinalIgnoreCase))
            {
                return type;
            }
        }

        throw new StrataException($"{option} '{name}' is not a GGUF weight type Strata writes; expected one of {string.Join(", ", WeightTypes.Select(t => t.ToString().ToLowerInvariant()))}.");
    }

    /// <summary>The file name a converted model folder holds.</summary>
    public const string FileName = "model.gguf";

    /// <summary>Writes <paramref name="sourceDirectory"/>'s model as <c>model.gguf</c> in <paramref name="outputDirectory"/>, with its tokenizer files copied beside it.</summary>
    /// <returns>The path of the file written.</returns>
    /// <exception cref="StrataException">The source is not a safetensors model folder, or the output already holds a model and <paramref name="overwrite"/> is false.</exception>
    public static string WriteFolder(string sourceDirectory, string outputDirectory, GgmlType type, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(sourceDirectory);
        ArgumentNullException.ThrowIfNull(outputDirectory);
        var path = Path.Combine(outputDirectory, FileName);
        if (Path.GetFullPath(sourceDirectory) == Path.GetFullPath(outputDirectory))
        {
            throw new StrataException($"--out '{outputDirectory}' is the source folder; write the GGUF model to another folder.");
        }

        if (!overwrite && Directory.Exists(outputDirectory) && Directory.EnumerateFiles(outputDirectory).Any(f => f.EndsWith(".gguf", StringComparison.Ordinal) || f.EndsWith(".safetensors", StringComparison.Ordinal) || Path.GetFileName(f) == "config.json"))
        {
            throw new StrataException($"Model folder '{outputDirectory}' already holds a model; choose an empty folder or pass --force.");
        }

        Directory.CreateDirectory(outputDirectory);
        Write(sourceDirectory, path, type);
        foreach (var tokenizer in new[] { "tokenizer.json", "tokenizer.model", "tokenizer_config.json" })
        {
            var file = Path.Combine(sourceDirectory, tokenizer);
            if (File.Exists(file))
            {
                File.Copy(file, Path.Combine(outputDirectory, tokenizer), overwrite: true);
            }
        }

        return path;
    }

    /// <summary>Converts the safetensors model folder <paramref name="sourceDirectory"/> to one GGUF file.</summary>
    /// <exception cref="StrataException">The folder is not a model, or a tensor is missing or misshapen.</exception>
    public static void Write(string sourceDirectory, string outputPath, GgmlType type)
    {
        var config = ModelFolder.LoadConfig(sourceDirectory);
        var files = Directory.GetFiles(sourceDirectory, "*.safetensors").Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0)
        {
            throw new StrataException($"Model folder '{sourceDirectory}' has no .safetensors file to convert.");
        }

        var readers = files.Select(SafetensorsReader.Open).ToList();
        try
        {
            Write(config, name =>
            {
                var reader = readers.FirstOrDefault(r => r.Tensors.ContainsKey(name))
                    ?? throw new StrataException($"Model folder '{sourceDirectory}' has no tensor '{name}' in its safetensors files.");
                var info = reader.Tensors[name];
                var values = new float[info.ElementCount];
                reader.Read(info, values);
                return values;
            }, outputPath, type);
        }
        finally
        {
            readers.ForEach(r => r.Dispose());
        }
    }

    /// <summary>Writes a model whose fp32 tensors <paramref name="tensor"/> returns by Hugging Face name (row-major, Hugging Face shapes).</summary>
    public static void Write(LlamaConfig config, Func<string, float[]> tensor, string outputPath, GgmlType type)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tensor);
        if (!WeightTypes.Contains(type))
        {
            throw new StrataException($"GGUF weight type {type} is not one Strata writes; expected one of {string.Join(", ", WeightTypes)}.");
        }

        var writer = new GgufWriter();
        GgufLlama.AddConfig(writer, config, type switch
        {
            GgmlType.F32 => 0u,
            GgmlType.F16 => 1u,
            GgmlType.Q4_0 => 2u,
            GgmlType.Q4_K => 14u, // LLAMA_FTYPE_MOSTLY_Q4_K_S: every matrix Q4_K
            _ => 7u, // LLAMA_FTYPE_MOSTLY_Q8_0
        });
        AddVocabulary(writer, config);
        long v = config.VocabularySize, h = config.HiddenSize;

        void Add(string huggingFaceName, long[] shape, bool matrix, bool permuted)
        {
            var tensorType = !matrix ? GgmlType.F32
                : shape[1] % GgmlTypes.Block(type)!.Value.Values != 0 ? GgmlType.F32
                : type;
            writer.AddTensor(GgufLlama.TensorName(huggingFaceName), tensorType, shape, () =>
            {
                var values = tensor(huggingFaceName);
                if (values.LongLength != shape.Aggregate(1L, (a, b) => a * b))
                {
                    throw new StrataException($"Tensor '{huggingFaceName}' holds {values.LongLength} values; shape [{string.Join(", ", shape)}] needs {shape.Aggregate(1L, (a, b) => a * b)}.");
                }

                if (permuted)
                {
                    values = PermuteRows(values, (int)shape[0], (int)shape[1], config.HeadDimension);
                }

                return Encode(values, (int)shape[^1], tensorType);
            });
        }

        Add(LlamaWeightsLoader.EmbeddingName, [v, h], matrix: true, permuted: false);
        for (var block = 0; block < config.LayerCount; block++)
        {
            foreach (var (suffix, shape) in LlamaWeightsLoader.BlockTensors(config))
            {
                Add(LlamaWeightsLoader.BlockTensorName(block, suffix), shape, shape.Length == 2, GgufLlama.IsRotaryPermuted(suffix));
            }
        }

        Add(LlamaWeightsLoader.FinalNormName, [h], matrix: false, permuted: false);
        if (!config.Architecture.TiedEmbeddings)
        {
            Add(LlamaWeightsLoader.LmHeadName, [v, h], matrix: true, permuted: false);
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(outputPath));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        writer.Write(outputPath);
    }

    /// <summary>The bytes of row-major <paramref name="values"/> (rows of <paramref name="inner"/>) in <paramref name="type"/>.</summary>
    public static byte[] Encode(float[] values, int inner, GgmlType type)
    {
        ArgumentNullException.ThrowIfNull(values);
        switch (type)
        {
            case GgmlType.F32:
                return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
            case GgmlType.F16:
                var halves = new Half[values.Length];
                for (var i = 0; i < values.Length; i++)
                {
                    halves[i] = (Half)values[i];
                }

                return MemoryMarshal.AsBytes(halves.AsSpan()).ToArray();
            case GgmlType.Q8_0 or GgmlType.Q4_0:
                var format = type == GgmlType.Q8_0 ? QuantFormat.Q8_0 : QuantFormat.Q4_0;
                var rows = values.Length / inner;
                var rowBytes = (int)format.RowBytes(inner);
                var bytes = new byte[(long)rows * rowBytes];
                for (var r = 0; r < rows; r++)
                {
                    BlockQuantizer.QuantizeRow(values.AsSpan(r * inner, inner), bytes.AsSpan(r * rowBytes, rowBytes), format);
                }

                return bytes;
            case GgmlType.Q4_K:
                var superRows = values.Length / inner;
                var superRowBytes = (int)Q4KBlocks.RowBytes(inner);
                var superBlocks = new byte[(long)superRows * superRowBytes];
                // The search of make_qkx2_quants costs about 20 passes per value: rows go to all cores (each row's bytes are fixed).
                Parallel.For(0, superRows, r =>
                    Q4KBlocks.QuantizeRow(values.AsSpan(r * inner, inner), superBlocks.AsSpan(r * superRowBytes, superRowBytes)));

                return superBlocks;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "Strata writes F32, F16, Q8_0, Q4_0 and Q4_K tensors.");
        }
    }

    /// <summary>Reorders the rows of a query or key projection from Hugging Face's order to llama.cpp's.</summary>
    public static float[] PermuteRows(float[] rowMajor, int rows, int inner, int headDimension)
    {
        ArgumentNullException.ThrowIfNull(rowMajor);
        var result = new float[rowMajor.Length];
        for (var row = 0; row < rows; row++)
        {
            rowMajor.AsSpan(GgufLlama.HuggingFaceRow(row, headDimension) * inner, inner).CopyTo(result.AsSpan(row * inner, inner));
        }

        return result;
    }

    // A SentencePiece-style vocabulary llama.cpp accepts: ids 0-255 are the byte tokens <0x00>..<0xFF> (Strata's
    // byte-level tokenizer maps byte b to id b), further ids are placeholders.
    private static void AddVocabulary(GgufWriter writer, LlamaConfig config)
    {
        var count = config.VocabularySize;
        var tokens = new object[count];
        var scores = new object[count];
        var types = new object[count];
        for (var id = 0; id < count; id++)
        {
            tokens[id] = id < 256 ? $"<0x{id:X2}>" : $"<strata_{id}>";
            scores[id] = 0f;
            types[id] = id < 256 ? GgufTokenizerInfo.ByteTokenType : GgufTokenizerInfo.NormalTokenType;
        }

        writer.Add("tokenizer.ggml.model", "llama")
            .Add("tokenizer.ggml.tokens", GgufValueType.Array, new GgufArray(GgufValueType.String, tokens))
            .Add("tokenizer.ggml.scores", GgufValueType.Array, new GgufArray(GgufValueType.Float32, scores))
            .Add("tokenizer.ggml.token_type", GgufValueType.Array, new GgufArray(GgufValueType.Int32, types));
        if (config.BosTokenId is { } bos)
        {
            writer.Add("tokenizer.ggml.bos_token_id", (uint)bos);
        }

        if (config.EosTokenIds is [var eos, ..])
        {
            writer.Add("tokenizer.ggml.eos_token_id", (uint)eos);
        }
    }
}
