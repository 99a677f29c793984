using LLama;
using LLama.Common;
using LLama.Native;

namespace Strata.Runtime.Tests.Oracle;

/// <summary>llama.cpp (through LLamaSharp) running a GGUF file on token ids: prefill, then one token at a time, logits of the last position.</summary>
/// <remarks>
/// The KV cache is kept in F32 (llama.cpp's default is F16) and flash attention is off, so the only numeric
/// differences from Strata are the ones the test states: accumulation order, and for Q8_0/Q4_0 weights the Q8
/// activation rounding both engines do. Shared by the oracle tests and, linked, by the benchmarks
/// (<c>LlamaCppComparisonBenchmarks</c>).
/// </remarks>
internal sealed class LlamaCppEngine : IDisposable
{
    private static readonly Lock QuietLock = new();
    private static bool _quiet;
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly LLamaBatch _batch = new();
    private int _position;

    public LlamaCppEngine(string path, int threads, uint contextTokens = 512)
    {
        Quiet();
        var parameters = new ModelParams(path)
        {
            ContextSize = contextTokens,
            BatchSize = contextTokens,
            UBatchSize = contextTokens,
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
            TypeK = GGMLType.GGML_TYPE_F32,
            TypeV = GGMLType.GGML_TYPE_F32,
            FlashAttention = false,
        };
        _weights = LLamaWeights.LoadFromFile(parameters);
        _context = _weights.CreateContext(parameters);
    }

    public int VocabularySize => _context.Vocab.Count;

    /// <summary>Empties the KV cache: the next token goes to position 0.</summary>
    public void Clear()
    {
        _context.NativeHandle.MemoryClear(data: false);
        _position = 0;
    }

    /// <summary>Feeds <paramref name="tokens"/> at the next positions; returns the logits of the last one.</summary>
    public float[] Feed(ReadOnlySpan<int> tokens) => FeedLast(tokens).ToArray();

    /// <summary>Feeds <paramref name="tokens"/> at the next positions; returns the greedy token after them (no copy of the logits: what a benchmark times).</summary>
    public int FeedGreedy(ReadOnlySpan<int> tokens) => Strata.Runtime.Sampling.TokenSampler.ArgMax(FeedLast(tokens));

    private Span<float> FeedLast(ReadOnlySpan<int> tokens)
    {
        _batch.Clear();
        for (var i = 0; i < tokens.Length; i++)
        {
            _batch.Add((LLamaToken)tokens[i], (LLamaPos)(_position + i), (LLamaSeqId)0, logits: i == tokens.Length - 1);
        }

        var result = _context.Decode(_batch);
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama.cpp decode of {tokens.Length} tokens at position {_position} failed: {result}.");
        }

        _position += tokens.Length;
        return _context.NativeHandle.GetLogitsIth(_batch.TokenCount - 1);
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }

    /// <summary>Silences llama.cpp's log and loads the native library; must run before the first native call.</summary>
    /// <remarks>
    /// Loading through <see cref="NativeApi"/> registers LLamaSharp's library resolver: a struct's native call
    /// made first (<c>LLamaModelQuantizeParams.Default()</c>) would otherwise find no library.
    /// </remarks>
    public static void Quiet()
    {
        lock (QuietLock)
        {
            if (!_quiet)
            {
                NativeLibraryConfig.All.WithLogCallback((_, _) => { });
                NativeApi.llama_empty_call();
                _quiet = true;
            }
        }
    }
}
