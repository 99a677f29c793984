namespace Strata.Cli.Reports;

/// <summary>The points of an empirical cumulative distribution, thinned to a drawable number.</summary>
internal static class EmpiricalCdf
{
    /// <summary>Most points one CDF line keeps (far more than a 900-pixel-wide chart can show).</summary>
    public const int MaxPoints = 2000;

    /// <summary>Sorted finite values and the share of values at or below each, starting from (smallest, 0).</summary>
    /// <remarks>
    /// With more than <paramref name="maxPoints"/> values, keeps evenly spaced ranks (always the largest), so
    /// the line stays within 1/<paramref name="maxPoints"/> of the full CDF. O(n log n).
    /// </remarks>
    public static (double[] Values, double[] Fractions) Of(IEnumerable<double> values, int maxPoints = MaxPoints)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPoints, 1);
        var sorted = values.Where(double.IsFinite).ToArray();
        Array.Sort(sorted);
        var n = sorted.Length;
        if (n == 0)
        {
            return ([], []);
        }

        var kept = Math.Min(n, maxPoints);
        var xs = new double[kept + 1];
        var ys = new double[kept + 1];
        xs[0] = sorted[0];
        for (var k = 0; k < kept; k++)
        {
            // Rank of the k-th kept point: evenly spaced, the last one is n - 1.
            var rank = (int)((long)(k + 1) * n / kept) - 1;
            xs[k + 1] = sorted[rank];
            ys[k + 1] = (double)(rank + 1) / n;
        }

        return (xs, ys);
    }
}
