namespace Strata.Performance.Calibration;

/// <summary>What a cross-model validation leaves out of each fit.</summary>
public enum CrossModelHoldout
{
    /// <summary>Leave one model out: fit a GPU on every other model, predict the held-out one.</summary>
    Model,
    /// <summary>Leave one tensor-parallel degree out: fit on every other degree, predict the held-out one.</summary>
    TensorParallel,
    /// <summary>Leave one GPU out: use the other GPU's parameters (relative to datasheet peaks) to predict it.</summary>
    Gpu,
}
