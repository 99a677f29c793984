using System.Runtime.InteropServices;

namespace Strata.Simulation.Metrics;

/// <summary>Collects one latency metric: exact percentiles while it holds few values, a quantile sketch beyond.</summary>
/// <remarks>
/// Values are kept exactly up to <see cref="ExactCapacity"/> (percentiles then interpolate between order statistics);
/// past that, the kept values move into a <see cref="QuantileSketch"/> and memory stays fixed whatever the run's size.
/// Mean, minimum and maximum are always exact.
/// </remarks>
public sealed class LatencyRecorder
{
    /// <summary>Default number of values kept exactly.</summary>
    public const int DefaultExactCapacity = 1 << 20;

    private List<double>? _exact = [];
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
    public void Add(double value)
    {
        Count++;
        _sum += value;
        Min = Math.Min(Min, value);
        Max = Math.Max(Max, value);
        if (_exact is not null)
        {
            if (_exact.Count < ExactCapacity)
            {
                _exact.Add(value);
                return;
            }

            _sketch = new QuantileSketch();
            foreach (var kept in CollectionsMarshal.AsSpan(_exact))
            {
                _sketch.Add(kept);
            }

            _exact = null;
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

        if (_exact is null)
        {
            return _sketch!.Quantile(q);
        }

        _exact.Sort();
        var position = q * (_exact.Count - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, _exact.Count - 1);
        return _exact[lower] + (position - lower) * (_exact[upper] - _exact[lower]);
    }

    /// <summary>P50, P90, P99 and mean, for reports.</summary>
    public LatencySummary Summary() => new(Count, Quantile(0.5), Quantile(0.9), Quantile(0.99), Mean, Count > 0 ? Max : double.NaN, IsExact);
}
