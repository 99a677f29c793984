namespace Strata.Performance.Estimation;

/// <summary>Which performance model to predict with.</summary>
public enum PerformanceProfile
{
    /// <summary>The roofline, calibrated to measurements of the same deployment where they exist.</summary>
    Roofline,
    /// <summary>Interpolation of measurements of the same deployment.</summary>
    Measured,
}
