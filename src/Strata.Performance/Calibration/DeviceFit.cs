using Strata.Performance.Operators;

namespace Strata.Performance.Calibration;

/// <summary>Device parameters fitted to operator measurements, and how well they fit.</summary>
/// <param name="Gpu">The GPU as the profiles name it.</param>
/// <param name="Parameters">The fitted parameters.</param>
/// <param name="RmsLogError">Root-mean-square of ln(predicted / measured) over the operator times fitted.</param>
/// <param name="Samples">Operator times fitted.</param>
/// <param name="Models">The models whose profiles were fitted.</param>
public sealed record DeviceFit(string Gpu, DeviceParameters Parameters, double RmsLogError, int Samples, IReadOnlyList<string> Models);
