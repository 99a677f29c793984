using BenchmarkDotNet.Attributes;
using Strata.Runtime.Engine;
using Strata.Runtime.Kernels;
using Strata.Runtime.Weights;

namespace Strata.Benchmarks.Runtime;

/// <summary>
/// The runtime against the machine's own limits, in one run: a STREAM-like copy (memory bandwidth), one decode
/// step of the <c>small</c> preset (bytes of weights per token over that bandwidth), and a prefill-sized
/// matrix product with the kernel and with a naive scalar loop.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class RuntimeBenchmarks
{
    /// <summary>Floats per array of the copy: 64 Mi floats = 256 MiB, far beyond any cache.</summary>
    public const int CopyFloats = 64 << 20;

    /// <summary>Shape of the prefill product: 270 tokens through the small preset's gate projection.</summary>
    public const int PrefillRows = 270, PrefillInner = 768, PrefillColumns = 2048;

    private const int ContextTokens = 64;

    private float[] _source = null!;
    private float[] _destination = null!;
    private float[] _input = null!;
    private float[] _weight = null!;
    private PackedMatrix _packedWeight = null!;
    private float[] _output = null!;
    private LlamaModel _model = null!;
    private InferenceSession _session = null!;
    private string _directory = null!;

    [GlobalSetup]
    public void Setup()
    {
        _source = new float[CopyFloats];
        _destination = new float[CopyFloats];
        _source.AsSpan().Fill(1.5f);
        var random = new Strata.Runtime.Sampling.DeterministicRandom(1);
        _input = [.. Enumerable.Range(0, PrefillRows * PrefillInner).Select(_ => random.NextSymmetric(1))];
        _weight = [.. Enumerable.Range(0, PrefillColumns * PrefillInner).Select(_ => random.NextSymmetric(1))];
        _packedWeight = PackedMatrix.Pack(_weight, PrefillColumns, PrefillInner);
        _output = new float[PrefillRows * PrefillColumns];
        _directory = Path.Combine(Path.GetTempPath(), $"strata-bench-small-{Environment.ProcessId}");
        RandomModelWriter.Write(_directory, ModelPreset.Small.ToConfig(), 1, overwrite: true);
        _model = ModelFolder.LoadModel(_directory);
        _session = _model.CreateSession();
        var prompt = Enumerable.Range(0, ContextTokens).Select(i => i % 256).ToArray();
        _model.ForwardBlocks(_session, 0, _model.Config.LayerCount, _model.Embed(prompt), prompt.Length);
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_directory, recursive: true);

    /// <summary>STREAM copy of 256 MiB on every core (as STREAM runs under OpenMP): bandwidth = 512 MiB (read + write) / time.</summary>
    [Benchmark]
    public void CopyBandwidth()
    {
        var chunks = Environment.ProcessorCount * 4;
        var chunk = (CopyFloats + chunks - 1) / chunks;
        Parallel.For(0, chunks, i =>
        {
            var start = i * chunk;
            var length = Math.Min(chunk, CopyFloats - start);
            _source.AsSpan(start, length).CopyTo(_destination.AsSpan(start, length));
        });
    }

    /// <summary>Fused multiply-adds per lane of each accumulator in <see cref="FmaPeak"/>, per core.</summary>
    public const int FmaIterations = 1 << 22;

    /// <summary>
    /// The FMA throughput limit: every core runs 8 independent 256-bit FMA chains (enough to cover the FMA latency on
    /// current x86 cores), so FLOP/s = cores x 8 chains x 8 lanes x 2 x iterations / time. Returns a sum so nothing is
    /// optimised away.
    /// </summary>
    [Benchmark]
    public float FmaPeak()
    {
        var sums = new float[Environment.ProcessorCount];
        Parallel.For(0, Environment.ProcessorCount, core =>
        {
            var a = System.Runtime.Intrinsics.Vector256.Create(1.0000001f);
            var b = System.Runtime.Intrinsics.Vector256.Create(0.9999999f);
            var x0 = System.Runtime.Intrinsics.Vector256.Create(core + 1f);
            var (x1, x2, x3, x4, x5, x6, x7) = (x0 + a, x0 + b, x0 - a, x0 - b, x0 * a, x0 * b, x0 + a + b);
            for (var i = 0; i < FmaIterations; i++)
            {
                x0 = System.Runtime.Intrinsics.Vector256.FusedMultiplyAdd(x0, a, b);
                x1 = System.Runtime.Intrinsics.Vector256.FusedMultiplyAdd(x1, a, b);
                x2 = System.Runtime.Intrinsics.Vector256.FusedMultiplyAdd(x2, a, b);
                x3 = System.Runtime.Intrinsics.Vector256.FusedMultiplyAdd(x3, a, b);
                x4 = System.Runtime.Intrinsics.Vector256.FusedMultiplyAdd(x4, a, b);
                x5 = System.Runtime.Intrinsics.Vector256.FusedMultiplyAdd(x5, a, b);
                x6 = System.Runtime.Intrinsics.Vector256.FusedMultiplyAdd(x6, a, b);
                x7 = System.Runtime.Intrinsics.Vector256.FusedMultiplyAdd(x7, a, b);
            }

            sums[core] = System.Runtime.Intrinsics.Vector256.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7);
        });
        return sums.Sum();
    }

    /// <summary>
    /// The same limit with 512-bit vectors: 8 independent chains of 16 lanes per core. Where the hardware runs AVX-512 at full
    /// width this is the machine's FMA limit (and the one the kernel, which uses 512-bit vectors there, is held to).
    /// </summary>
    [Benchmark]
    public float FmaPeak512()
    {
        var sums = new float[Environment.ProcessorCount];
        Parallel.For(0, Environment.ProcessorCount, core =>
        {
            var a = System.Runtime.Intrinsics.Vector512.Create(1.0000001f);
            var b = System.Runtime.Intrinsics.Vector512.Create(0.9999999f);
            var x0 = System.Runtime.Intrinsics.Vector512.Create(core + 1f);
            var (x1, x2, x3, x4, x5, x6, x7) = (x0 + a, x0 + b, x0 - a, x0 - b, x0 * a, x0 * b, x0 + a + b);
            for (var i = 0; i < FmaIterations; i++)
            {
                x0 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(x0, a, b);
                x1 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(x1, a, b);
                x2 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(x2, a, b);
                x3 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(x3, a, b);
                x4 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(x4, a, b);
                x5 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(x5, a, b);
                x6 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(x6, a, b);
                x7 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(x7, a, b);
            }

            sums[core] = System.Runtime.Intrinsics.Vector512.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7);
        });
        return sums.Sum();
    }

    /// <summary>The same copy on one thread.</summary>
    [Benchmark]
    public void CopyBandwidthOneThread() => _source.AsSpan().CopyTo(_destination);

    /// <summary>One greedy decode step of the small preset at a 64-token context (all 12 blocks and the LM head).</summary>
    [Benchmark]
    public int DecodeStepSmall()
    {
        _session.Truncate(ContextTokens);
        var hidden = _model.Embed([42]);
        _model.ForwardBlocks(_session, 0, _model.Config.LayerCount, hidden, 1);
        return Strata.Runtime.Sampling.TokenSampler.ArgMax(_model.ComputeLastLogits(hidden, 1));
    }

    /// <summary>270 x 768 times 768 x 2048 with the runtime's kernel (multi-threaded): 0.85 GFLOP.</summary>
    [Benchmark]
    public void PrefillMatMulKernel() =>
        MatMul.MultiplyTransposed(_input.AsMemory(), _packedWeight, _output.AsMemory(), PrefillRows);

    /// <summary>The same product as a naive scalar triple loop on one thread: what the kernels buy.</summary>
    [Benchmark]
    public void PrefillMatMulNaive()
    {
        for (var r = 0; r < PrefillRows; r++)
        {
            for (var c = 0; c < PrefillColumns; c++)
            {
                var sum = 0f;
                for (var k = 0; k < PrefillInner; k++)
                {
                    sum += _input[r * PrefillInner + k] * _weight[c * PrefillInner + k];
                }

                _output[r * PrefillColumns + c] = sum;
            }
        }
    }
}
