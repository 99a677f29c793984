using System.Runtime.CompilerServices;

namespace Strata.Simulation.Metrics;

/// <summary>Collects one latency metric: exact percentiles while it holds few values, a quantile sketch beyond.</summary>
/// <remarks>
/// Values are kept exactly up to <see cref="ExactCapacity"/> (percentiles then interpolate between order statistics);
/// past that, the kept values move into a <see cref="QuantileSketch"/> and memory stays fixed whatever the run's size.
/// Mean, minimum and maximum are always exact. Exact values are stored in fixed chunks of
/// <see cref="ChunkValues"/>, so growing never copies what is kept (a simulation adds millions of gaps); the first
/// percentile read sorts them once into one array.
/// </remarks>
public sealed class LatencyRecorder
{
    /// <summary>Default number of values kept exactly.</summary>
    public const int DefaultExactCapacity = 1 << 20;

    /// <summary>Values per storage chunk (512 KiB of doubles).</summary>
    private const int ChunkValues = 1 << 16;

    private readonly List<double[]> _chunks = [];
    private double[] _chunk = [];
    private int _chunkCount;
    private int _exactCount;
    private bool _exactMode = true;
    private double[]? _sorted;
    private QuantileSketch? _sketch;
    private double _sum;

    /// <summary>Creates a recorder that keeps up to <paramref name="exactCapacity"/> values exactly.</summary>
    public LatencyRecorder(int exactCapacity = DefaultExactCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(exactCapacity);
        ExactCapacity = exactCapacity;
    }

    /// <summary>How many values are kept exactly before switching to the sketch.</summary>
    public int ExactCapacity { get; }

    /// <summary>Values recorded.</summary>
    public long Count { get; private set; }

    /// <summary>Whether percentiles are exact (the sketch has not been needed).</summary>
    public bool IsExact => _sketch is null;

    /// <summary>Smallest value recorded.</summary>
    public double Min { get; private set; } = double.PositiveInfinity;

    /// <summary>Largest value recorded.</summary>
    public double Max { get; private set; } = double.NegativeInfinity;

    /// <summary>Mean of the values (NaN when empty).</summary>
    public double Mean => Count > 0 ? _sum / Count : double.NaN;

    /// <summary>Records one value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(double value)
    {
        Count++;
        _sum += value;
        Min = Math.Min(Min, value);
        Max = Math.Max(Max, value);
        if (_exactMode && _chunkCount < _chunk.Length && _exactCount < ExactCapacity)
        {
            _chunk[_chunkCount++] = value;
            _exactCount++;
            _sorted = null;
            return;
        }

        AddSlow(value);
    }

    private void AddSlow(double value)
    {
        if (_exactMode)
        {
            if (_exactCount < ExactCapacity)
            {
                _chunk = new double[Math.Min(ChunkValues, ExactCapacity - _exactCount)];
                _chunks.Add(_chunk);
                _chunk[0] = value;
                _chunkCount = 1;
                _exactCount++;
                _sorted = null;
                return;
            }

            _sketch = new QuantileSketch();
            foreach (var chunk in _chunks)
            {
                foreach (var kept in chunk)
                {
                    _sketch.Add(kept);
                }
            }

            _chunks.Clear();
            _chunk = [];
            _chunkCount = _exactCount = 0;
            _sorted = null;
            _exactMode = false;
        }

        _sketch!.Add(value);
    }

    /// <summary>The value at quantile <paramref name="q"/> in [0, 1] (NaN when empty).</summary>
    public double Quantile(double q)
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        if (!_exactMode)
        {
            return _sketch!.Quantile(q);
        }

        var sorted = Sorted();
        var position = q * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
    }

    /// <summary>P50, P90, P99 and mean, for reports.</summary>
    public LatencySummary Summary() => new(Count, Quantile(0.5), Quantile(0.9), Quantile(0.99), Mean, Count > 0 ? Max : double.NaN, IsExact);

    /// <summary>The exact values in ascending order, sorted once per batch of adds.</summary>
    private double[] Sorted()
    {
        if (_sorted is not null)
        {
            return _sorted;
        }

        var sorted = new double[_exactCount];
        var at = 0;
        foreach (var chunk in _chunks)
        {
            var length = Math.Min(chunk.Length, _exactCount - at);
            chunk.AsSpan(0, length).CopyTo(sorted.AsSpan(at));
            at += length;
        }

        Array.Sort(sorted);
        return _sorted = sorted;
    }
}
