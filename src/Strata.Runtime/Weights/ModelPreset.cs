using Strata.Core;
using Strata.Core.Identity;
using Strata.Core.Models;
using Strata.Runtime.Engine;

namespace Strata.Runtime.Weights;

/// <summary>The shape of a model <c>strata model init</c> can write with random weights.</summary>
/// <param name="Name">Preset name.</param>
/// <param name="HiddenSize">Residual width.</param>
/// <param name="LayerCount">Blocks.</param>
/// <param name="HeadCount">Query heads.</param>
/// <param name="KeyValueHeadCount">KV heads.</param>
/// <param name="IntermediateSize">MLP width.</param>
/// <param name="VocabularySize">Vocabulary (at least 256 so the byte-level tokenizer covers it).</param>
/// <param name="MaxContextTokens">Longest context, <c>max_position_embeddings</c>.</param>
/// <param name="TiedEmbeddings">Whether the LM head is the embedding.</param>
public sealed record ModelPreset(
    string Name, int HiddenSize, int LayerCount, int HeadCount, int KeyValueHeadCount, int IntermediateSize,
    int VocabularySize, int MaxContextTokens, bool TiedEmbeddings)
{
    /// <summary>A few blocks and a narrow residual: for tests (about 0.2 M parameters).</summary>
    public static ModelPreset Tiny { get; } = new("tiny", 64, 4, 4, 2, 176, 256, 512, TiedEmbeddings: false);

    /// <summary>About 100 M parameters (12 blocks of width 768, GQA 12:4, 32,000-token vocabulary): for benchmarks.</summary>
    public static ModelPreset Small { get; } = new("small", 768, 12, 12, 4, 2048, 32_000, 2048, TiedEmbeddings: true);

    /// <summary>Llama-2-7B's shapes (32 blocks of width 4,096, 32 heads, MLP 11,008, 32,000-token vocabulary; 6.7 B parameters): for the 7B-class 4-bit run.</summary>
    public static ModelPreset Llama7B { get; } = new("llama-7b", 4096, 32, 32, 32, 11_008, 32_000, 4096, TiedEmbeddings: false);

    /// <summary>The presets by name.</summary>
    public static IReadOnlyList<ModelPreset> All { get; } = [Tiny, Small, Llama7B];

    /// <summary>The preset called <paramref name="name"/>.</summary>
    /// <exception cref="StrataException">No preset has that name.</exception>
    public static ModelPreset ByName(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new StrataException($"Preset '{name}' is unknown; expected one of {string.Join(", ", All.Select(p => p.Name))}.");

    /// <summary>The engine configuration of this preset.</summary>
    public LlamaConfig ToConfig() => new()
    {
        Architecture = new ModelArchitecture
        {
            Id = new ModelId($"strata-{Name}"),
            Name = $"strata-{Name}",
            HiddenSize = HiddenSize,
            LayerCount = LayerCount,
            AttentionHeadCount = HeadCount,
            KeyValueHeadCount = KeyValueHeadCount,
            IntermediateSize = IntermediateSize,
            VocabularySize = VocabularySize,
            TiedEmbeddings = TiedEmbeddings,
            Mlp = MlpKind.Gated,
            MaxContextTokens = MaxContextTokens,
            NativePrecision = Precision.Fp32,
        }.Validate(),
        RopeTheta = 10_000,
        RmsNormEpsilon = 1e-5,
    };
}
