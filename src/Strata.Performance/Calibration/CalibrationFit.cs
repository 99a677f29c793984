using Strata.Performance.Roofline;

namespace Strata.Performance.Calibration;

/// <summary>Roofline factors fitted to measurements, and how well they fit.</summary>
/// <param name="Calibration">The fitted factors.</param>
/// <param name="RmsLogError">Root-mean-square of ln(predicted / measured) over the rows fitted.</param>
/// <param name="Rows">Measured rows used (each gives a prompt time and a token time).</param>
public sealed record CalibrationFit(RooflineCalibration Calibration, double RmsLogError, int Rows);
