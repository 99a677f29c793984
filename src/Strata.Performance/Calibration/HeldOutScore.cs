namespace Strata.Performance.Calibration;

/// <summary>How well a fit without some measurements predicts them: one held-out group on one GPU.</summary>
/// <param name="Gpu">The GPU predicted, as the profiles name it.</param>
/// <param name="HeldOut">The model, tensor-parallel degree (<c>tp4</c>) or GPU held out of the fit.</param>
/// <param name="FittedOn">What the fit used, in words.</param>
/// <param name="TrainRmsLogError">Fit quality on the training operators.</param>
/// <param name="Prefill">Errors of the per-layer operator sum at 512-4,096 tokens.</param>
/// <param name="Decode">Errors of the per-layer operator sum at 1-64 tokens (decode batches of 1-64 sequences).</param>
public sealed record HeldOutScore(string Gpu, string HeldOut, string FittedOn, double TrainRmsLogError, ErrorSummary Prefill, ErrorSummary Decode);
