using Strata.Runtime.Tokenization;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Tests.Tokenization;

public sealed class TokenizerTests
{
    [Fact]
    public void Byte_tokenizer_round_trips_utf8_text()
    {
        var tokenizer = new ByteTokenizer();
        const string Text = "Héllo, wörld — 你好";
        var ids = tokenizer.Encode(Text);
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(Text), ids.Count);
        Assert.Equal(Text, tokenizer.Decode(ids));
        Assert.Equal("a<|300|>b", tokenizer.Decode([97, 300, 98]));
    }

    [Fact]
    public void A_folder_without_tokenizer_files_gets_the_byte_tokenizer()
    {
        var directory = TestModels.TinyDirectory();
        Assert.IsType<ByteTokenizer>(TokenizerLoader.Load(directory, ModelFolder.LoadConfig(directory)));
    }

    [Fact]
    public void A_byte_level_bpe_tokenizer_json_is_loaded_with_its_merges()
    {
        var directory = TestModels.NewDirectory();
        // Byte-level alphabet for "hello world" (space is 'Ġ'), merges h+e, l+l, he+ll, hell+o.
        var vocab = new Dictionary<string, int>
        {
            ["h"] = 0,
            ["e"] = 1,
            ["l"] = 2,
            ["o"] = 3,
            ["Ġ"] = 4,
            ["w"] = 5,
            ["r"] = 6,
            ["d"] = 7,
            ["he"] = 8,
            ["ll"] = 9,
            ["hell"] = 10,
            ["hello"] = 11,
        };
        var json = System.Text.Json.JsonSerializer.Serialize(new
        {
            version = "1.0",
            added_tokens = new[] { new { id = 12, content = "<s>", special = true } },
            pre_tokenizer = new { type = "ByteLevel", add_prefix_space = false },
            decoder = new { type = "ByteLevel" },
            model = new { type = "BPE", vocab, merges = new[] { "h e", "l l", "he ll", "hell o" } },
        });
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), json);
        var config = ModelPreset.Tiny.ToConfig() with { BosTokenId = 12 };
        var tokenizer = TokenizerLoader.Load(directory, config);
        var ids = tokenizer.Encode("hello world");
        Assert.Equal([12, 11, 4, 5, 3, 6, 2, 7], ids);
        Assert.Equal("hello world", tokenizer.Decode(ids).Replace("<s>", "", StringComparison.Ordinal));

        // A model's output may hold ids the tokenizer does not know (a vocabulary padded past it): no exception.
        Assert.Equal("hello", tokenizer.Decode([11, 200]));
    }
}
