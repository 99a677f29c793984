using BenchmarkDotNet.Attributes;
using Strata.Runtime.Engine;
using Strata.Runtime.Kernels;
using Strata.Runtime.Sampling;
using Strata.Runtime.Tests.Oracle;
using Strata.Runtime.Weights;
using Strata.Runtime.Weights.Gguf;

namespace Strata.Benchmarks.Runtime.LlamaCpp;

/// <summary>
/// Strata against llama.cpp on the same GGUF file of the <c>small</c> preset (random weights, seed 1), written by
/// Strata's own writer in F32, Q8_0 or Q4_0: a prefill of 256 tokens and a greedy decode of 128 tokens at batch 1,
/// each from an empty KV cache, at one thread and at all threads (the jobs of <see cref="ThreadJobsConfig"/>).
/// </summary>
/// <remarks>
/// Each engine gets token ids directly and computes the logits of the last position of every call; the decode picks
/// the next token by argmax, so both do the work of a real greedy decode. The file is written in the global set-up
/// into a fresh temporary folder and deleted afterwards; its tensor bytes (printed in the log) are what one decode
/// token reads.
/// </remarks>
[Config(typeof(ThreadJobsConfig))]
[MedianColumn]
public class LlamaCppComparisonBenchmarks
{
    /// <summary>Tokens of the prefill.</summary>
    public const int PrefillTokens = 256;

    /// <summary>Tokens of the decode.</summary>
    public const int DecodeTokens = 128;

    private const uint ContextTokens = 512;

    private string _directory = null!;
    private int[] _prompt = null!;
    private LlamaModel _strata = null!;
    private InferenceSession _session = null!;
    private LlamaCppEngine _llama = null!;

    /// <summary>Weight type of every matrix in the file (norms stay F32).</summary>
    [Params(GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_0)]
    public GgmlType Weights { get; set; }

    [GlobalSetup(Targets = [nameof(StrataPrefill), nameof(StrataDecode)])]
    public void SetupStrata()
    {
        var path = WriteModel();
        _strata = ModelFolder.LoadModel(Path.GetDirectoryName(path)!);
        _session = _strata.CreateSession();
        Console.WriteLine($"// Strata: {Environment.ProcessorCount} threads, Q8_0/Q4_0 kernel {KernelIsas.QuantizedDefault}, Q4_K kernel {KernelIsas.IntegerDefault}, fp32 kernels {KernelIsas.FloatDefault}");
    }

    [GlobalSetup(Targets = [nameof(LlamaCppPrefill), nameof(LlamaCppDecode)])]
    public void SetupLlamaCpp()
    {
        var path = WriteModel();
        _llama = new LlamaCppEngine(path, Environment.ProcessorCount, ContextTokens);
        Console.WriteLine($"// llama.cpp: {Environment.ProcessorCount} threads");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _llama?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>256 tokens through all blocks from an empty cache, then the LM head on the last one.</summary>
    [Benchmark]
    public int StrataPrefill()
    {
        _session.Truncate(0);
        var hidden = _strata.Embed(_prompt);
        _strata.ForwardBlocks(_session, 0, _strata.Config.LayerCount, hidden, _prompt.Length);
        return TokenSampler.ArgMax(_strata.ComputeLastLogits(hidden, _prompt.Length));
    }

    /// <summary>The same prefill in llama.cpp.</summary>
    [Benchmark]
    public int LlamaCppPrefill()
    {
        _llama.Clear();
        return _llama.FeedGreedy(_prompt);
    }

    /// <summary>128 greedy tokens at batch 1 from an empty cache: one forward pass and the LM head per token.</summary>
    [Benchmark]
    public int StrataDecode()
    {
        _session.Truncate(0);
        var token = _prompt[0];
        Span<int> one = stackalloc int[1];
        for (var i = 0; i < DecodeTokens; i++)
        {
            one[0] = token;
            var hidden = _strata.Embed(one);
            _strata.ForwardBlocks(_session, 0, _strata.Config.LayerCount, hidden, 1);
            token = TokenSampler.ArgMax(_strata.ComputeLastLogits(hidden, 1));
        }

        return token;
    }

    /// <summary>The same decode in llama.cpp.</summary>
    [Benchmark]
    public int LlamaCppDecode()
    {
        _llama.Clear();
        var token = _prompt[0];
        Span<int> one = stackalloc int[1];
        for (var i = 0; i < DecodeTokens; i++)
        {
            one[0] = token;
            token = _llama.FeedGreedy(one);
        }

        return token;
    }

    private string WriteModel()
    {
        var config = ModelPreset.Small.ToConfig();
        _directory = Path.Combine(Path.GetTempPath(), $"strata-bench-llamacpp-{Environment.ProcessId}");
        Directory.CreateDirectory(_directory);
        var path = Path.Combine(_directory, GgufModelWriter.FileName);
        var tensors = RandomModelWriter.Generate(config, 1).ToDictionary(t => t.Name, t => t.Data);
        GgufModelWriter.Write(config, name => tensors[name], path, Weights);
        using (var reader = GgufReader.Open(path))
        {
            var bytes = reader.TensorList.Sum(t => t.SizeBytes);
            Console.WriteLine($"// {Weights}: {bytes:N0} bytes of tensors read per decode token ({new FileInfo(path).Length:N0} bytes of file)");
        }

        var vocabulary = config.VocabularySize;
        _prompt = [.. Enumerable.Range(0, PrefillTokens).Select(i => (int)((1L + (i * 7919L)) % vocabulary))];
        return path;
    }
}
