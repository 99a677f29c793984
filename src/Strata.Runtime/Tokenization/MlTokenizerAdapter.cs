using Microsoft.ML.Tokenizers;

namespace Strata.Runtime.Tokenization;

/// <summary>A Microsoft.ML.Tokenizers tokenizer behind <see cref="ITextTokenizer"/>, adding the model's BOS token.</summary>
internal sealed class MlTokenizerAdapter : ITextTokenizer
{
    private readonly Tokenizer _tokenizer;
    private readonly int? _bosTokenId;

    public MlTokenizerAdapter(Tokenizer tokenizer, int? bosTokenId, string name)
    {
        _tokenizer = tokenizer;
        _bosTokenId = bosTokenId;
        Name = name;
    }

    public string Name { get; }

    public IReadOnlyList<int> Encode(string text)
    {
        var ids = _tokenizer.EncodeToIds(text);
        return _bosTokenId is { } bos && (ids.Count == 0 || ids[0] != bos) ? [bos, .. ids] : [.. ids];
    }

    public string Decode(IReadOnlyList<int> tokens) => _tokenizer.Decode(tokens) ?? "";
}
