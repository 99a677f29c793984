namespace Strata.Simulation.Metrics;

/// <summary>A fixed-memory quantile sketch with bounded relative error (DDSketch-style logarithmic buckets).</summary>
/// <remarks>
/// A positive value v falls in bucket ceil(log_gamma(v)) with gamma = (1 + a) / (1 - a); any quantile read back is
/// within relative error <c>a</c> (default 0.5%) of a true sample at that rank. Values from 1e-9 to 1e9 are
/// bucketed (about 4,200 buckets, 33 KB); smaller ones (and zero) are counted as zero, larger ones clamp.
/// </remarks>
public sealed class QuantileSketch
{
    private const double MinValue = 1e-9;
    private const double MaxValue = 1e9;
    private readonly double _logGamma;
    private readonly double _gamma;
    private readonly int _offset;
    private readonly long[] _counts;
    private long _zeros;

    // The last bucketed value and its bucket: a step's decodes often share one gap, so most adds skip the logarithm.
    private double _lastValue = double.NaN;
    private int _lastIndex;

    /// <summary>Creates a sketch with relative accuracy <paramref name="relativeAccuracy"/>.</summary>
    public QuantileSketch(double relativeAccuracy = 0.005)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(relativeAccuracy);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(relativeAccuracy, 1);
        RelativeAccuracy = relativeAccuracy;
        _gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
        _logGamma = Math.Log(_gamma);
        _offset = -(int)Math.Ceiling(Math.Log(MinValue) / _logGamma) + 1;
        _counts = new long[(int)Math.Ceiling(Math.Log(MaxValue) / _logGamma) + _offset + 1];
    }

    /// <summary>The guaranteed relative accuracy of a quantile.</summary>
    public double RelativeAccuracy { get; }

    /// <summary>Values added.</summary>
    public long Count { get; private set; }

    /// <summary>Adds one value (negative values count as zero).</summary>
    public void Add(double value)
    {
        Count++;
        if (!(value >= MinValue))
        {
            _zeros++;
            return;
        }

        if (value == _lastValue)
        {
            _counts[_lastIndex]++;
            return;
        }

        var index = (int)Math.Ceiling(Math.Log(Math.Min(value, MaxValue)) / _logGamma) + _offset;
        _counts[index]++;
        _lastValue = value;
        _lastIndex = index;
    }

    /// <summary>The value at quantile <paramref name="q"/> in [0, 1] (NaN when empty).</summary>
    public double Quantile(double q)
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        var rank = (long)Math.Floor(q * (Count - 1));
        if (rank < _zeros)
        {
            return 0;
        }

        var seen = _zeros;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen > rank)
            {
                // Bucket i holds (gamma^(k-1), gamma^k]; its midpoint in relative terms is 2 gamma^k / (gamma + 1).
                return 2 * Math.Exp((i - _offset) * _logGamma) / (_gamma + 1);
            }
        }

        return MaxValue;
    }
}
