using Strata.Core;
using Strata.Runtime.Engine;
using Strata.Runtime.Kernels;

namespace Strata.Runtime.Weights.Gguf;

/// <summary>Loads the weights of a llama GGUF file: Q8_0, Q4_0 and Q4_K projections stay quantized in memory, F32/F16/BF16 ones become fp32 panels.</summary>
/// <remarks>
/// The query and key rows come back in Hugging Face's order (see <see cref="GgufLlama"/>); the token embedding,
/// when held apart from the head, is dequantized to fp32 (a lookup reads one row per token).
/// </remarks>
public static class GgufWeightsLoader
{
    /// <summary>Loads blocks <c>[firstBlock, firstBlock + blockCount)</c> plus, when asked, the embedding, final norm and LM head.</summary>
    /// <exception cref="StrataException">A tensor is missing, misshapen, or of a type Strata does not run.</exception>
    public static LlamaWeights Load(string path, LlamaConfig config, int firstBlock, int blockCount, bool includeEmbeddingAndHead = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (firstBlock < 0 || blockCount < 0 || firstBlock + blockCount > config.LayerCount)
        {
            throw new StrataException($"Blocks [{firstBlock}, {firstBlock + blockCount}) are outside the model's {config.LayerCount} blocks.");
        }

        using var reader = GgufReader.Open(path);
        GgufTensorInfo Find(string name, long[] shape)
        {
            var info = reader.Tensors.GetValueOrDefault(name)
                ?? throw new StrataException($"GGUF file '{path}' has no tensor '{name}' (shape [{string.Join(", ", shape)}]).");
            if (!info.Shape.SequenceEqual(shape))
            {
                throw new StrataException($"GGUF file '{path}': tensor '{name}' has shape {info.ShapeText}; the model's metadata needs [{string.Join(", ", shape)}].");
            }

            return info;
        }

        float[] Vector(string name, long length) => reader.ReadFloats(Find(name, [length]));

        LinearWeight Matrix(string name, long[] shape, bool permuted)
        {
            var info = Find(name, shape);
            int columns = (int)shape[0], inner = (int)shape[1], headDimension = config.HeadDimension;
            int Source(int row) => permuted ? GgufLlama.GgufRow(row, headDimension) : row;
            switch (info.Type)
            {
                case GgmlType.Q8_0 or GgmlType.Q4_0:
                    var format = info.Type == GgmlType.Q8_0 ? QuantFormat.Q8_0 : QuantFormat.Q4_0;
                    var rowBytes = (int)format.RowBytes(inner);
                    try
                    {
                        return QuantizedMatrix.FromBlocks(format, columns, inner, (first, count, buffer) =>
                        {
                            if (!permuted)
                            {
                                reader.ReadBytes(info, (long)first * rowBytes, buffer);
                                return;
                            }

                            for (var r = 0; r < count; r++)
                            {
                                reader.ReadBytes(info, (long)Source(first + r) * rowBytes, buffer.Slice(r * rowBytes, rowBytes));
                            }
                        });
                    }
                    catch (FormatException e)
                    {
                        throw new StrataException($"GGUF file '{path}': tensor '{name}' is not usable: {e.Message}");
                    }
                case GgmlType.Q4_K:
                    var superRowBytes = (int)Q4KBlocks.RowBytes(inner);
                    return Q4KMatrix.FromBlocks(columns, inner, (first, count, buffer) =>
                    {
                        for (var r = 0; r < count; r++)
                        {
                            reader.ReadBytes(info, (long)Source(first + r) * superRowBytes, buffer.Slice(r * superRowBytes, superRowBytes));
                        }
                    });
                case GgmlType.F32 or GgmlType.F16 or GgmlType.BF16:
                    return PackedMatrix.Pack(columns, inner, (first, count, rows) =>
                    {
                        if (!permuted)
                        {
                            reader.ReadRows(info, first, rows);
                            return;
                        }

                        for (var r = 0; r < count; r++)
                        {
                            reader.ReadRows(info, Source(first + r), rows.Slice(r * inner, inner));
                        }
                    });
                default:
                    throw new StrataException($"GGUF file '{path}': tensor '{name}' has type {info.Type}; Strata runs F32, F16, BF16, Q8_0, Q4_0 and Q4_K weights.");
            }
        }

        var blocks = new List<BlockWeights>(blockCount);
        var specs = LlamaWeightsLoader.BlockTensors(config);
        for (var block = firstBlock; block < firstBlock + blockCount; block++)
        {
            LinearWeight Projection(int index) =>
                Matrix(GgufLlama.BlockTensorName(block, specs[index].Suffix), specs[index].Shape, GgufLlama.IsRotaryPermuted(specs[index].Suffix));
            float[] Norm(int index) => Vector(GgufLlama.BlockTensorName(block, specs[index].Suffix), specs[index].Shape[0]);
            blocks.Add(LlamaWeightsLoader.Block(Projection, Norm));
        }

        float[]? embedding = null, norm = null;
        LinearWeight? head = null;
        var tied = includeEmbeddingAndHead && config.Architecture.TiedEmbeddings;
        if (includeEmbeddingAndHead)
        {
            long v = config.VocabularySize, h = config.HiddenSize;
            norm = Vector(GgufLlama.FinalNormName, h);
            head = Matrix(tied ? GgufLlama.EmbeddingName : GgufLlama.LmHeadName, [v, h], permuted: false);
            embedding = tied ? null : reader.ReadFloats(Find(GgufLlama.EmbeddingName, [v, h]));
        }

        return new LlamaWeights(firstBlock, blocks, embedding, norm, head, tied);
    }
}
