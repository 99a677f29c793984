namespace Strata.Core.Scenarios;

/// <summary>Token counts drawn from a log-normal distribution given by two quantiles (<c>{distribution: lognormal, median: 1020, p90: 2734}</c>).</summary>
/// <param name="MedianTokens">The median, &gt; 0.</param>
/// <param name="P90Tokens">The 90th percentile, &gt; <paramref name="MedianTokens"/>.</param>
public sealed record LognormalLengthSpec(double MedianTokens, double P90Tokens) : LengthDistributionSpec
{
    private const double NormalQuantile90 = 1.2815515655446004;

    /// <summary>Mean of the underlying normal: ln(median).</summary>
    public double Mu => Math.Log(MedianTokens);

    /// <summary>Standard deviation of the underlying normal: ln(p90 / median) / z(0.9).</summary>
    public double Sigma => Math.Log(P90Tokens / MedianTokens) / NormalQuantile90;
}
