using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;

namespace Strata.Benchmarks.Runtime.LlamaCpp;

/// <summary>
/// The machine's read bandwidth, the limit of a batch-1 decode (which reads every weight once per token and writes
/// almost nothing): a vector sum over 256 MiB on <see cref="Environment.ProcessorCount"/> threads, in the same run and
/// jobs as <see cref="LlamaCppComparisonBenchmarks"/>.
/// </summary>
[Config(typeof(ThreadJobsConfig))]
[MedianColumn]
public class MemoryReadBenchmarks
{
    /// <summary>Floats read: 64 Mi floats = 256 MiB, far beyond any cache.</summary>
    public const int ReadFloats = 64 << 20;

    private float[] _source = null!;

    [GlobalSetup]
    public void Setup()
    {
        _source = GC.AllocateArray<float>(ReadFloats, pinned: true);
        _source.AsSpan().Fill(1f);
    }

    /// <summary>Sums 256 MiB with four independent 512-bit accumulators per thread: bandwidth = 268,435,456 bytes / time.</summary>
    [Benchmark]
    public float ReadBandwidth()
    {
        var threads = Environment.ProcessorCount;
        var chunk = ReadFloats / threads / Vector512<float>.Count * Vector512<float>.Count;
        var sums = new float[threads];
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var length = t == threads - 1 ? ReadFloats - (t * chunk) : chunk;
            sums[t] = Sum(_source.AsSpan(t * chunk, length));
        });
        return sums.Sum();
    }

    private static float Sum(ReadOnlySpan<float> values)
    {
        ref var start = ref MemoryMarshal.GetReference(values);
        var width = Vector512<float>.Count;
        Vector512<float> a = default, b = default, c = default, d = default;
        var i = 0;
        for (; i + (4 * width) <= values.Length; i += 4 * width)
        {
            a += Vector512.LoadUnsafe(ref start, (nuint)i);
            b += Vector512.LoadUnsafe(ref start, (nuint)(i + width));
            c += Vector512.LoadUnsafe(ref start, (nuint)(i + (2 * width)));
            d += Vector512.LoadUnsafe(ref start, (nuint)(i + (3 * width)));
        }

        var sum = Vector512.Sum(a + b + c + d);
        for (; i < values.Length; i++)
        {
            sum += values[i];
        }

        return sum;
    }
}
