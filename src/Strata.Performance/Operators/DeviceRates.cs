namespace Strata.Performance.Operators;

/// <summary>The datasheet rates and element sizes an operator runs at.</summary>
/// <param name="PeakFlopsPerSecond">Peak matrix FLOP/s at the compute precision.</param>
/// <param name="MemoryBytesPerSecond">Peak memory bandwidth.</param>
/// <param name="WeightBytesPerParameter">Bytes per weight (2 for fp16; less for weight-only quantisation).</param>
/// <param name="ActivationBytes">Bytes per activation element.</param>
public readonly record struct DeviceRates(double PeakFlopsPerSecond, double MemoryBytesPerSecond, double WeightBytesPerParameter = 2, double ActivationBytes = 2);
