using Strata.Core;
using Strata.Runtime.Engine;
using Strata.Runtime.Kernels;
using Strata.Runtime.Weights.Gguf;

namespace Strata.Runtime.Weights;

/// <summary>Loads the weights of a Llama-architecture model from the safetensors files of a folder, by Hugging Face tensor names, or from its GGUF file.</summary>
public static class LlamaWeightsLoader
{
    /// <summary>The Hugging Face name of a block tensor, for example <c>model.layers.3.mlp.up_proj.weight</c>.</summary>
    public static string BlockTensorName(int blockIndex, string suffix) => $"model.layers.{blockIndex}.{suffix}";

    /// <summary>Name of the token embedding.</summary>
    public const string EmbeddingName = "model.embed_tokens.weight";

    /// <summary>Name of the final norm.</summary>
    public const string FinalNormName = "model.norm.weight";

    /// <summary>Name of the LM head (absent when tied to the embedding).</summary>
    public const string LmHeadName = "lm_head.weight";

    /// <summary>Bytes of one block's weights in memory (fp32) for <paramref name="config"/>.</summary>
    public static long BlockBytes(LlamaConfig config) =>
        BlockTensors(config).Sum(tensor => tensor.Shape.Aggregate(1L, (product, dimension) => product * dimension)) * sizeof(float);

    /// <summary>Every tensor of a block: its name suffix and shape for <paramref name="config"/>.</summary>
    public static IReadOnlyList<(string Suffix, long[] Shape)> BlockTensors(LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        long h = config.HiddenSize, kv = config.KeyValueDimension, inter = config.IntermediateSize;
        return
        [
            ("self_attn.q_proj.weight", [h, h]),
            ("self_attn.k_proj.weight", [kv, h]),
            ("self_attn.v_proj.weight", [kv, h]),
            ("self_attn.o_proj.weight", [h, h]),
            ("mlp.gate_proj.weight", [inter, h]),
            ("mlp.up_proj.weight", [inter, h]),
            ("mlp.down_proj.weight", [h, inter]),
            ("input_layernorm.weight", [h]),
            ("post_attention_layernorm.weight", [h]),
        ];
    }

    /// <summary>One block's weights from its tensors in <see cref="BlockTensors"/> order: seven projections, then the two norms.</summary>
    internal static BlockWeights Block(Func<int, LinearWeight> projection, Func<int, float[]> norm) => new()
    {
        QueryProjection = projection(0),
        KeyProjection = projection(1),
        ValueProjection = projection(2),
        OutputProjection = projection(3),
        GateProjection = projection(4),
        UpProjection = projection(5),
        DownProjection = projection(6),
        InputNorm = norm(7),
        PostAttentionNorm = norm(8),
    };

    /// <summary>Loads blocks <c>[firstBlock, firstBlock + blockCount)</c> plus, when asked, the embedding, final norm and LM head.</summary>
    /// <param name="directory">The model folder (its <c>*.safetensors</c> files are read; without any, its one <c>*.gguf</c> file).</param>
    /// <param name="config">The model's configuration.</param>
    /// <param name="firstBlock">First block to load.</param>
    /// <param name="blockCount">Number of blocks to load.</param>
    /// <param name="includeEmbeddingAndHead">Whether to load the embedding, final norm and LM head (clients need them, block servers do not).</param>
    /// <exception cref="StrataException">A file is bad, a tensor is missing, or a shape does not match <c>config.json</c>.</exception>
    public static LlamaWeights Load(string directory, LlamaConfig config, int firstBlock, int blockCount, bool includeEmbeddingAndHead = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (firstBlock < 0 || blockCount < 0 || firstBlock + blockCount > config.LayerCount)
        {
            throw new StrataException($"Blocks [{firstBlock}, {firstBlock + blockCount}) are outside the model's {config.LayerCount} blocks.");
        }

        var files = Directory.Exists(directory) ? Directory.GetFiles(directory, "*.safetensors").Order(StringComparer.Ordinal).ToArray() : [];
        if (files.Length == 0 && ModelFolder.GgufFile(directory) is { } gguf)
        {
            return GgufWeightsLoader.Load(gguf, config, firstBlock, blockCount, includeEmbeddingAndHead);
        }

        if (files.Length == 0)
        {
            throw new StrataException($"Model folder '{directory}' has no .safetensors file; expected model.safetensors (write one with 'strata model init').");
        }

        var readers = new List<SafetensorsReader>();
        try
        {
            var owner = new Dictionary<string, SafetensorsReader>(StringComparer.Ordinal);
            foreach (var file in files)
            {
                var reader = SafetensorsReader.Open(file);
                readers.Add(reader);
                foreach (var name in reader.Tensors.Keys)
                {
                    if (!owner.TryAdd(name, reader))
                    {
                        throw new StrataException($"Model folder '{directory}': tensor '{name}' is in both '{Path.GetFileName(owner[name].Path)}' and '{Path.GetFileName(file)}'.");
                    }
                }
            }

            (SafetensorsReader Reader, SafetensorsTensorInfo Info) Find(string name, long[] shape)
            {
                if (!owner.TryGetValue(name, out var reader))
                {
                    throw new StrataException($"Model folder '{directory}' has no tensor '{name}' (shape [{string.Join(", ", shape)}]) in its safetensors files.");
                }

                var info = reader.Tensors[name];
                if (!info.Shape.SequenceEqual(shape))
                {
                    throw new StrataException($"Model folder '{directory}': tensor '{name}' has shape {info.ShapeText} but config.json needs [{string.Join(", ", shape)}].");
                }

                return (reader, info);
            }

            float[] Tensor(string name, params long[] shape)
            {
                var (reader, info) = Find(name, shape);
                var values = new float[info.ElementCount];
                reader.Read(info, values);
                return values;
            }

            // An (out, in) weight is read a panel group (64 rows) at a time straight into its packed form, so loading
            // never holds a row-major copy of a whole tensor.
            PackedMatrix Packed(string name, long[] shape)
            {
                var (reader, info) = Find(name, shape);
                var inner = (int)shape[1];
                return PackedMatrix.Pack((int)shape[0], inner, (first, count, rows) => reader.Read(info, (long)first * inner, rows));
            }

            var blocks = new List<BlockWeights>(blockCount);
            var specs = BlockTensors(config);
            for (var block = firstBlock; block < firstBlock + blockCount; block++)
            {
                PackedMatrix Projection(int index) => Packed(BlockTensorName(block, specs[index].Suffix), specs[index].Shape);
                float[] Vector(int index) => Tensor(BlockTensorName(block, specs[index].Suffix), specs[index].Shape);
                blocks.Add(Block(Projection, Vector));
            }

            float[]? embedding = null, norm = null;
            PackedMatrix? head = null;
            var tied = includeEmbeddingAndHead && config.Architecture.TiedEmbeddings;
            if (includeEmbeddingAndHead)
            {
                long v = config.VocabularySize, h = config.HiddenSize;
                norm = Tensor(FinalNormName, h);
                // Tied models may still ship lm_head.weight; Hugging Face ignores it then, and so do we. A tied
                // embedding is held once, packed as the head, and looked up from there.
                head = Packed(tied ? EmbeddingName : LmHeadName, [v, h]);
                embedding = tied ? null : Tensor(EmbeddingName, v, h);
            }

            return new LlamaWeights(firstBlock, blocks, embedding, norm, head, tied);
        }
        finally
        {
            foreach (var reader in readers)
            {
                reader.Dispose();
            }
        }
    }
}
