namespace Strata.Performance.Profiles;

/// <summary>A piecewise-linear function through measured points: flat below the first, linear extrapolation above the last.</summary>
/// <remarks>Flat below because small steps are overhead-bound; the extrapolated slope above is never negative.</remarks>
public sealed class PiecewiseLinear
{
    private readonly double[] _x;
    private readonly double[] _y;

    /// <summary>Creates the function through the points; x values must be distinct.</summary>
    public PiecewiseLinear(IEnumerable<(double X, double Y)> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var sorted = points.OrderBy(point => point.X).ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("A piecewise-linear function needs at least one point.", nameof(points));
        }

        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i].X == sorted[i - 1].X)
            {
                throw new ArgumentException($"Two points share x = {sorted[i].X}.", nameof(points));
            }
        }

        _x = sorted.Select(point => point.X).ToArray();
        _y = sorted.Select(point => point.Y).ToArray();
    }

    /// <summary>The smallest measured x.</summary>
    public double MinX => _x[0];

    /// <summary>The largest measured x.</summary>
    public double MaxX => _x[^1];

    /// <summary>The value at <paramref name="x"/>.</summary>
    public double Evaluate(double x)
    {
        if (x <= _x[0])
        {
            return _y[0];
        }

        var n = _x.Length;
        if (x >= _x[n - 1])
        {
            if (n == 1)
            {
                return _y[0];
            }

            var slope = Math.Max(0, (_y[n - 1] - _y[n - 2]) / (_x[n - 1] - _x[n - 2]));
            return _y[n - 1] + slope * (x - _x[n - 1]);
        }

        var index = Array.BinarySearch(_x, x);
        if (index >= 0)
        {
            return _y[index];
        }

        var upper = ~index;
        var lower = upper - 1;
        var t = (x - _x[lower]) / (_x[upper] - _x[lower]);
        return _y[lower] + t * (_y[upper] - _y[lower]);
    }
}
