using Strata.Core;

namespace Strata.Runtime.Weights.Gguf;

/// <summary>The tokenizer a GGUF file carries in its <c>tokenizer.ggml.*</c> metadata.</summary>
/// <param name="Model"><c>tokenizer.ggml.model</c>: <c>llama</c> (SentencePiece), <c>gpt2</c> (byte-level BPE), ...</param>
/// <param name="Tokens">The token strings by id.</param>
/// <param name="Scores">SentencePiece scores by id, when present.</param>
/// <param name="TokenTypes">Token types by id (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte), when present.</param>
/// <param name="Merges">BPE merges (<c>"a b"</c>), when present.</param>
/// <param name="BosTokenId">Beginning-of-sequence id, when stated.</param>
/// <param name="EosTokenId">End-of-sequence id, when stated.</param>
public sealed record GgufTokenizerInfo(
    string Model, IReadOnlyList<string> Tokens, IReadOnlyList<float>? Scores, IReadOnlyList<int>? TokenTypes,
    IReadOnlyList<string>? Merges, int? BosTokenId, int? EosTokenId)
{
    /// <summary>llama.cpp's token type of an ordinary token.</summary>
    public const int NormalTokenType = 1;

    /// <summary>llama.cpp's token type of a byte token <c>&lt;0xHH&gt;</c>.</summary>
    public const int ByteTokenType = 6;

    /// <summary>Reads the tokenizer metadata of <paramref name="reader"/>, or null when the file has none.</summary>
    /// <exception cref="StrataException">The arrays disagree in length or a value has the wrong type.</exception>
    public static GgufTokenizerInfo? Read(GgufReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (reader.Text("tokenizer.ggml.model") is not { } model)
        {
            return null;
        }

        var tokens = reader.Strings("tokenizer.ggml.tokens")
            ?? throw new StrataException($"GGUF file '{reader.Path}' names tokenizer model \"{model}\" but has no 'tokenizer.ggml.tokens'.");
        var scores = reader.Floats("tokenizer.ggml.scores");
        var types = reader.Integers("tokenizer.ggml.token_type")?.Select(t => (int)t).ToArray();
        foreach (var (name, count) in new[] { ("tokenizer.ggml.scores", scores?.Length), ("tokenizer.ggml.token_type", types?.Length) })
        {
            if (count is { } n && n != tokens.Count)
            {
                throw new StrataException($"GGUF file '{reader.Path}': '{name}' has {n} entries; expected one per token ({tokens.Count}).");
            }
        }

        int? Id(string key)
        {
            if (reader.Integer(key) is not { } id)
            {
                return null;
            }

            return id >= 0 && id < tokens.Count
                ? (int)id
                : throw new StrataException($"GGUF file '{reader.Path}': metadata '{key}' is {id}; expected a token id below {tokens.Count}.");
        }

        return new GgufTokenizerInfo(model, tokens, scores, types, reader.Strings("tokenizer.ggml.merges"), Id("tokenizer.ggml.bos_token_id"), Id("tokenizer.ggml.eos_token_id"));
    }
}
