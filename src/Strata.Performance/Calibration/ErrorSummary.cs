namespace Strata.Performance.Calibration;

/// <summary>Absolute percentage errors of predictions against measurements.</summary>
/// <param name="Count">Predictions compared.</param>
/// <param name="MedianPercent">Median absolute percentage error.</param>
/// <param name="P90Percent">90th percentile of the absolute percentage error.</param>
/// <param name="MaxPercent">Largest absolute percentage error.</param>
public sealed record ErrorSummary(int Count, double MedianPercent, double P90Percent, double MaxPercent)
{
    /// <summary>Summarises the errors of (predicted, measured) pairs.</summary>
    public static ErrorSummary Of(IEnumerable<(double Predicted, double Measured)> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var errors = pairs.Select(pair => Math.Abs(pair.Predicted - pair.Measured) / pair.Measured * 100).OrderBy(error => error).ToArray();
        return errors.Length == 0
            ? new ErrorSummary(0, double.NaN, double.NaN, double.NaN)
            : new ErrorSummary(errors.Length, Quantile(errors, 0.5), Quantile(errors, 0.9), errors[^1]);
    }

    /// <summary>Linear-interpolated quantile of sorted values.</summary>
    internal static double Quantile(double[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
    }
}
