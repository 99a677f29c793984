using LLama;
using LLama.Common;
using LLama.Native;

namespace Strata.Benchmarks.Runtime.LlamaCpp;

/// <summary>llama.cpp (through LLamaSharp) on a GGUF file, fed token ids directly: no tokenizer, no sampler chain.</summary>
/// <remarks>
/// The KV cache is F32 and flash attention is off, as in Strata, so both engines do the same arithmetic per token
/// (the oracle tests use the same settings). Not thread-safe.
/// </remarks>
internal sealed class LlamaCppRunner : IDisposable
{
    private static readonly Lock QuietLock = new();
    private static bool _quiet;
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly LLamaBatch _batch = new();

    public LlamaCppRunner(string path, int threads, uint contextTokens)
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

    /// <summary>Empties the KV cache: the next token goes to position 0.</summary>
    public void Clear() => _context.NativeHandle.MemoryClear(data: false);

    /// <summary>Runs <paramref name="tokens"/> at positions <c>[position, position + count)</c>; returns the argmax of the last one's logits.</summary>
    public int Feed(ReadOnlySpan<int> tokens, int position)
    {
        _batch.Clear();
        for (var i = 0; i < tokens.Length; i++)
        {
            _batch.Add((LLamaToken)tokens[i], (LLamaPos)(position + i), (LLamaSeqId)0, logits: i == tokens.Length - 1);
        }

        var result = _context.Decode(_batch);
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama.cpp decode of {tokens.Length} tokens at position {position} failed: {result}.");
        }

        return Strata.Runtime.Sampling.TokenSampler.ArgMax(_context.NativeHandle.GetLogitsIth(_batch.TokenCount - 1));
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }

    // Must run before the first native call.
    private static void Quiet()
    {
        lock (QuietLock)
        {
            if (!_quiet)
            {
                NativeLibraryConfig.All.WithLogCallback((_, _) => { });
                _quiet = true;
            }
        }
    }
}
