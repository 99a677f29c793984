using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using Strata.Core;
using Strata.Runtime.Engine;

namespace Strata.Runtime.Tokenization;

/// <summary>Finds a model folder's tokenizer: <c>tokenizer.json</c> (byte-level BPE), else <c>tokenizer.model</c> (SentencePiece), else bytes.</summary>
public static class TokenizerLoader
{
    // GPT-2's pre-tokenization, the default of Hugging Face's ByteLevel pre-tokenizer.
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>The tokenizer of the model in <paramref name="directory"/>.</summary>
    /// <exception cref="StrataException">A tokenizer file is present but malformed or of a kind not supported, or the byte-level fallback does not fit the vocabulary.</exception>
    public static ITextTokenizer Load(string directory, LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var json = Path.Combine(directory, "tokenizer.json");
        var sentencePiece = Path.Combine(directory, "tokenizer.model");
        if (File.Exists(json) && TryLoadByteLevelBpe(json, config) is { } bpe)
        {
            return bpe;
        }

        if (File.Exists(sentencePiece))
        {
            using var stream = File.OpenRead(sentencePiece);
            return new MlTokenizerAdapter(LlamaTokenizer.Create(stream, addBeginOfSentence: false), config.BosTokenId, "tokenizer.model (SentencePiece)");
        }

        if (File.Exists(json))
        {
            throw new StrataException($"{json}: only byte-level BPE tokenizer.json files are supported; add the model's tokenizer.model (SentencePiece) beside it.");
        }

        if (config.VocabularySize < ByteTokenizer.ByteCount)
        {
            throw new StrataException($"Model folder '{directory}' has no tokenizer and its vocabulary of {config.VocabularySize} is too small for the byte-level fallback (256 needed).");
        }

        return new ByteTokenizer();
    }

    private static MlTokenizerAdapter? TryLoadByteLevelBpe(string path, LlamaConfig config)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            if (!root.TryGetProperty("model", out var model) || !model.TryGetProperty("type", out var type) || type.GetString() != "BPE")
            {
                return null;
            }

            var text = root.GetRawText();
            if (!text.Contains("\"ByteLevel\"", StringComparison.Ordinal))
            {
                return null;
            }

            var vocabulary = model.GetProperty("vocab").EnumerateObject().Select(p => new KeyValuePair<string, int>(p.Name, p.Value.GetInt32())).ToList();
            var merges = model.TryGetProperty("merges", out var m)
                ? m.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Array ? $"{e[0].GetString()} {e[1].GetString()}" : e.GetString()!).ToList()
                : [];
            var special = new Dictionary<string, int>(StringComparer.Ordinal);
            if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            {
                foreach (var token in added.EnumerateArray())
                {
                    special[token.GetProperty("content").GetString()!] = token.GetProperty("id").GetInt32();
                }
            }

            var pattern = FindSplitPattern(root) ?? Gpt2Pattern;
            var options = new BpeOptions(vocabulary)
            {
                Merges = merges,
                ByteLevel = true,
                SpecialTokens = special.Count > 0 ? special : null,
                PreTokenizer = new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), special.Count > 0 ? special : null),
            };
            return new MlTokenizerAdapter(BpeTokenizer.Create(options), config.BosTokenId, "tokenizer.json (byte-level BPE)");
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            throw new StrataException($"{path} could not be read as a Hugging Face tokenizer: {exception.Message}", exception);
        }
    }

    // Llama 3 and Qwen put their own regex in a Split pre-tokenizer before ByteLevel.
    private static string? FindSplitPattern(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            if (element.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "Split"
                && element.TryGetProperty("pattern", out var pattern) && pattern.ValueKind == JsonValueKind.Object
                && pattern.TryGetProperty("Regex", out var regex) && regex.ValueKind == JsonValueKind.String)
            {
                return regex.GetString();
            }

            foreach (var property in element.EnumerateObject())
            {
                if (property.Name is "pre_tokenizer" or "pretokenizers" && FindSplitPattern(property.Value) is { } found)
                {
                    return found;
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                if (FindSplitPattern(item) is { } found)
                {
                    return found;
                }
            }
        }

        return null;
    }
}
