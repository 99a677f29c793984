namespace Strata.Runtime.Tokenization;

/// <summary>Turns text into token ids and back.</summary>
public interface ITextTokenizer
{
    /// <summary>A short description, for output (<c>byte-level</c>, <c>tokenizer.json (BPE)</c>).</summary>
    string Name { get; }

    /// <summary>The ids of <paramref name="text"/>, with the model's beginning-of-sequence token first when it has one.</summary>
    IReadOnlyList<int> Encode(string text);

    /// <summary>The text of <paramref name="tokens"/>; special tokens are left out.</summary>
    string Decode(IReadOnlyList<int> tokens);
}
