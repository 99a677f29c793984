namespace Strata.Performance.Calibration;

/// <summary>How well a kind of transfer scored in validation: the error to expect from a prediction of that kind.</summary>
/// <param name="Basis">What was held out and what was predicted, in words, with the command that reproduces it.</param>
/// <param name="PrefillMedianPercent">Median absolute percentage error of prefill times.</param>
/// <param name="PrefillP90Percent">90th percentile of the prefill error.</param>
/// <param name="DecodeMedianPercent">Median absolute percentage error of decode step times.</param>
/// <param name="DecodeP90Percent">90th percentile of the decode error.</param>
public sealed record ExpectedError(string Basis, double PrefillMedianPercent, double PrefillP90Percent, double DecodeMedianPercent, double DecodeP90Percent);
