namespace Strata.Performance.Profiles;

/// <summary>Summaries of measured samples, shared by the profiles, the runtime profiler and the validations.</summary>
public static class Samples
{
    /// <summary>The median: the middle value, or the mean of the middle two of an even count.</summary>
    /// <exception cref="ArgumentException">There are no values.</exception>
    public static double Median(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("The median of no values is undefined.", nameof(values));
        }

        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
