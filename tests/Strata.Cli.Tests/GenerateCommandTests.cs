namespace Strata.Cli.Tests;

public sealed class GenerateCommandTests : IDisposable
{
    private readonly List<string> _directories = [];

    public void Dispose()
    {
        foreach (var directory in _directories.Where(Directory.Exists))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private string NewDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"strata-cli-test-model-{Guid.NewGuid():N}");
        _directories.Add(directory);
        return directory;
    }

    private string TinyModel(int seed = 1)
    {
        var directory = NewDirectory();
        CliRun.Of("model", "init", "--preset", "tiny", "--seed", $"{seed}", "--out", directory).ShouldSucceed();
        return directory;
    }

    [Fact]
    public void Model_init_writes_a_config_and_safetensors_and_reports_them_as_json()
    {
        var directory = NewDirectory();
        var json = CliRun.Of("model", "init", "--preset", "tiny", "--seed", "4", "--out", directory, "--dtype", "bf16", "--json").ShouldSucceed().Json();
        Assert.Equal("tiny", json.GetProperty("preset").GetString());
        Assert.Equal("BF16", json.GetProperty("dtype").GetString());
        Assert.True(File.Exists(Path.Combine(directory, "config.json")));
        Assert.True(File.Exists(Path.Combine(directory, "model.safetensors")));
        CliRun.Of("model", "init", "--preset", "tiny", "--out", directory).ShouldFailCleanly("already holds a model", "--force");
        CliRun.Of("model", "init", "--preset", "tiny", "--out", directory, "--force").ShouldSucceed();
    }

    [Fact]
    public void Model_quantize_writes_a_gguf_folder_that_generates_and_refuses_to_overwrite()
    {
        var source = TinyModel();
        var output = NewDirectory();
        var json = CliRun.Of("model", "quantize", "--in", source, "--out", output, "--format", "q8_0", "--json").ShouldSucceed().Json();
        Assert.Equal("q8_0", json.GetProperty("type").GetString());
        Assert.True(json.GetProperty("bytes").GetInt64() < json.GetProperty("sourceBytes").GetInt64() / 2);
        Assert.True(File.Exists(Path.Combine(output, "model.gguf")));
        var generated = CliRun.Of("generate", "--local", "--model", output, "--prompt", "Hi", "--max-tokens", "3", "--json").ShouldSucceed().Json();
        Assert.Equal(3, generated.GetProperty("tokens").GetArrayLength());
        CliRun.Of("model", "quantize", "--in", source, "--out", output, "--format", "q8_0").ShouldFailCleanly("already holds a model", "--force");
        CliRun.Of("model", "quantize", "--in", source, "--out", NewDirectory(), "--format", "q5_9").ShouldFailCleanly("q5_9");
    }

    [Fact]
    public void Model_init_gguf_streams_the_same_bytes_as_quantizing_the_safetensors_model_and_generates()
    {
        var source = NewDirectory();
        CliRun.Of("model", "init", "--preset", "tiny", "--seed", "3", "--out", source).ShouldSucceed();
        var quantized = NewDirectory();
        CliRun.Of("model", "quantize", "--in", source, "--out", quantized, "--format", "q4_0").ShouldSucceed();
        var streamed = NewDirectory();
        var json = CliRun.Of("model", "init", "--preset", "tiny", "--seed", "3", "--gguf", "q4_0", "--out", streamed, "--json").ShouldSucceed().Json();
        Assert.Equal("q4_0", json.GetProperty("type").GetString());
        using (var expected = Strata.Runtime.Weights.Gguf.GgufReader.Open(Path.Combine(quantized, "model.gguf")))
        using (var actual = Strata.Runtime.Weights.Gguf.GgufReader.Open(Path.Combine(streamed, "model.gguf")))
        {
            Assert.Equal(expected.TensorList.Select(t => (t.Name, t.Type)), actual.TensorList.Select(t => (t.Name, t.Type)));
            foreach (var tensor in expected.TensorList)
            {
                var a = new byte[tensor.SizeBytes];
                var b = new byte[tensor.SizeBytes];
                expected.ReadBytes(tensor, 0, a);
                actual.ReadBytes(actual.Tensors[tensor.Name], 0, b);
                Assert.True(a.AsSpan().SequenceEqual(b), $"Tensor '{tensor.Name}' differs between the streamed and the quantized file.");
            }
        }

        var generated = CliRun.Of("generate", "--local", "--model", streamed, "--prompt", "Hi", "--max-tokens", "3", "--json").ShouldSucceed().Json();
        Assert.Equal(3, generated.GetProperty("tokens").GetArrayLength());
        Assert.True(generated.GetProperty("loadSeconds").GetDouble() > 0);
        CliRun.Of("model", "init", "--preset", "tiny", "--gguf", "q4_0", "--out", streamed).ShouldFailCleanly("already holds a model", "--force");
        CliRun.Of("model", "init", "--preset", "tiny", "--gguf", "q5_9", "--out", NewDirectory()).ShouldFailCleanly("q5_9");
    }

    [Fact]
    public void Model_convert_to_gguf_f32_generates_the_same_tokens_as_the_source()
    {
        var source = TinyModel();
        var output = NewDirectory();
        CliRun.Of("model", "convert", "--in", source, "--out", output, "--to", "gguf").ShouldSucceed();
        string[] Args(string model) => ["generate", "--local", "--model", model, "--prompt", "Hello", "--max-tokens", "5", "--json"];
        var expected = CliRun.Of(Args(source)).ShouldSucceed().Json().GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        var actual = CliRun.Of(Args(output)).ShouldSucceed().Json().GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.Equal(expected, actual);
        CliRun.Of("model", "convert", "--in", output, "--out", NewDirectory()).ShouldFailCleanly("safetensors");
    }

    [Fact]
    public void Local_greedy_generation_gives_the_same_tokens_on_every_run_with_a_local_route()
    {
        var directory = TinyModel();
        string[] args = ["generate", "--local", "--model", directory, "--prompt", "Hello, world", "--max-tokens", "6", "--json"];
        var first = CliRun.Of(args).ShouldSucceed().Json();
        var second = CliRun.Of(args).ShouldSucceed().Json();
        var tokens = first.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.Equal(6, tokens.Length);
        Assert.Equal(tokens, second.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
        Assert.True(first.GetProperty("ttftSeconds").GetDouble() > 0);
        Assert.True(first.GetProperty("tpotSeconds").GetDouble() > 0);
        Assert.Equal(System.Text.Json.JsonValueKind.String, first.GetProperty("text").ValueKind);
        var hop = Assert.Single(first.GetProperty("route").EnumerateArray());
        Assert.Equal("local", hop.GetProperty("server").GetString());
        Assert.Equal(0, hop.GetProperty("firstBlock").GetInt32());
        Assert.Equal(4, hop.GetProperty("blockCount").GetInt32());
    }

    [Fact]
    public void Sampled_generation_depends_only_on_the_seed()
    {
        var directory = TinyModel();
        int[] Tokens(string seed) => [.. CliRun.Of("generate", "--local", "--model", directory, "--prompt", "abc", "--max-tokens", "16", "--temperature", "1.2", "--top-p", "0.95", "--seed", seed, "--json")
            .ShouldSucceed().Json().GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32())];
        Assert.Equal(Tokens("9"), Tokens("9"));
        Assert.NotEqual(Tokens("9"), Tokens("10"));
    }

    [Fact]
    public void A_folder_with_a_tokenizer_json_and_a_bos_token_uses_them()
    {
        var directory = TinyModel();
        var configPath = Path.Combine(directory, "config.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["bos_token_id"] = 12;
        File.WriteAllText(configPath, config.ToJsonString());
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
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), System.Text.Json.JsonSerializer.Serialize(new
        {
            added_tokens = new[] { new { id = 12, content = "<s>", special = true } },
            pre_tokenizer = new { type = "ByteLevel" },
            model = new { type = "BPE", vocab, merges = new[] { "h e", "l l", "he ll", "hell o" } },
        }));
        var json = CliRun.Of("generate", "--local", "--model", directory, "--prompt", "hello world", "--max-tokens", "3", "--json").ShouldSucceed().Json();
        Assert.Equal(8, json.GetProperty("promptTokens").GetInt32()); // <s> hello Ġ w o r l d
        Assert.Equal("tokenizer.json (byte-level BPE)", json.GetProperty("tokenizer").GetString());
    }

    [Fact]
    public void Bad_model_folders_and_flags_fail_with_one_sentence_and_exit_code_2()
    {
        CliRun.Of("generate", "--local", "--model", NewDirectory(), "--prompt", "x").ShouldFailCleanly("does not exist");
        var directory = TinyModel();
        CliRun.Of("generate", "--model", directory, "--prompt", "x").ShouldFailCleanly("--local");
        CliRun.Of("generate", "--local", "--model", directory, "--prompt", "x", "--top-p", "0").ShouldFailCleanly("top-p");
        CliRun.Of("generate", "--local", "--model", directory, "--prompt", "", "--max-tokens", "2").ShouldFailCleanly("prompt is empty");
        File.WriteAllBytes(Path.Combine(directory, "model.safetensors"), [9, 0, 0, 0, 0, 0, 0, 0, (byte)'{']);
        CliRun.Of("generate", "--local", "--model", directory, "--prompt", "x").ShouldFailCleanly("model.safetensors", "truncated");
    }

    [Theory]
    [InlineData("generate", new[] { "--local", "--model", "--prompt", "--max-tokens", "--seed", "--temperature", "--top-p", "--json" })]
    [InlineData("model init", new[] { "--preset", "--seed", "--out", "--dtype", "--force", "--json" })]
    public void Help_names_the_runtime_options(string path, string[] expected)
    {
        var run = CliRun.Of([.. path.Split(' '), "--help"]).ShouldSucceed();
        foreach (var name in expected)
        {
            Assert.True(run.Output.Contains(name, StringComparison.Ordinal), $"help of '{path}' does not list {name}:\n{run.Output}");
        }
    }
}
