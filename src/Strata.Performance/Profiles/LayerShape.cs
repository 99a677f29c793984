using Strata.Core.Models;

namespace Strata.Performance.Profiles;

/// <summary>The widths of a transformer layer that set its matrix-product shapes.</summary>
/// <param name="HeadCount">Query heads.</param>
/// <param name="KeyValueHeadCount">Key/value heads (fewer than query heads under grouped-query attention).</param>
/// <param name="HiddenSize">Model width.</param>
/// <param name="IntermediateSize">MLP width (of one of the two up matrices of a gated MLP).</param>
/// <param name="VocabularySize">Vocabulary size.</param>
/// <param name="GatedMlp">Whether the MLP has a gate (SwiGLU-style: up projection twice as wide).</param>
public readonly record struct LayerShape(int HeadCount, int KeyValueHeadCount, int HiddenSize, int IntermediateSize, int VocabularySize, bool GatedMlp)
{
    /// <summary>Width of one head.</summary>
    public int HeadDimension => HiddenSize / HeadCount;

    /// <summary>The shape of a catalog model's layers.</summary>
    public static LayerShape Of(ModelArchitecture model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new LayerShape(model.AttentionHeadCount, model.KeyValueHeadCount, model.HiddenSize, model.IntermediateSize, model.VocabularySize, model.Mlp == MlpKind.Gated);
    }
}
