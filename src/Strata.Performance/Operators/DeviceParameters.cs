using Strata.Core;

namespace Strata.Performance.Operators;

/// <summary>How fast one GPU runs a transformer layer's operators: per device, shared by every model on it.</summary>
/// <remarks>
/// A matrix product (GEMM) of an M x K by K x N product takes
/// <c>launch + (compute^q + memory^q)^(1/q)</c> with
/// <c>compute = 2 M N K / (peak x e x M/(M + m0) x N/(N + n0) x K/(K + k0))</c> and
/// <c>memory = (weights K N + activations (M K + M N)) / (bandwidth x e_mem)</c>: a smooth roofline whose
/// efficiency falls for thin matrices (few tokens, narrow tensor-parallel shards). Element-wise operators (norms,
/// rotary embedding, activation, residual add) take <c>launch + bytes / (bandwidth x e_elem)</c>. Fitted on the
/// Vidur operator profiles jointly over every model measured on the GPU (<c>DeviceFitter</c>).
/// </remarks>
/// <param name="GemmPeakEfficiency">Share of peak FLOP/s a large GEMM reaches, in (0, 1].</param>
/// <param name="GemmHalfRows">M (tokens) at which the GEMM reaches half its row efficiency, >= 0.</param>
/// <param name="GemmHalfColumns">N (output width per shard) at which it reaches half its column efficiency, >= 0.</param>
/// <param name="GemmHalfDepth">K (reduction width) at which it reaches half its depth efficiency, >= 0.</param>
/// <param name="GemmMemoryEfficiency">Share of peak bandwidth a memory-bound GEMM reaches, in (0, 1].</param>
/// <param name="GemmLaunchSeconds">Fixed cost per GEMM, >= 0.</param>
/// <param name="GemmBlendExponent">q: how sharply compute and memory time combine (large q is max()), >= 1.</param>
/// <param name="ElementwiseMemoryEfficiency">Share of peak bandwidth element-wise kernels reach, in (0, 1].</param>
/// <param name="ElementwiseLaunchSeconds">Fixed cost per element-wise kernel, >= 0.</param>
public sealed record DeviceParameters(
    double GemmPeakEfficiency,
    double GemmHalfRows,
    double GemmHalfColumns,
    double GemmHalfDepth,
    double GemmMemoryEfficiency,
    double GemmLaunchSeconds,
    double GemmBlendExponent,
    double ElementwiseMemoryEfficiency,
    double ElementwiseLaunchSeconds)
{
    /// <summary>Checks every parameter is in its range.</summary>
    /// <exception cref="StrataException">A parameter is out of range.</exception>
    public DeviceParameters Validate()
    {
        Check(GemmPeakEfficiency is > 0 and <= 1, nameof(GemmPeakEfficiency), GemmPeakEfficiency, "in (0, 1]");
        Check(GemmHalfRows >= 0, nameof(GemmHalfRows), GemmHalfRows, ">= 0");
        Check(GemmHalfColumns >= 0, nameof(GemmHalfColumns), GemmHalfColumns, ">= 0");
        Check(GemmHalfDepth >= 0, nameof(GemmHalfDepth), GemmHalfDepth, ">= 0");
        Check(GemmMemoryEfficiency is > 0 and <= 1, nameof(GemmMemoryEfficiency), GemmMemoryEfficiency, "in (0, 1]");
        Check(GemmLaunchSeconds >= 0, nameof(GemmLaunchSeconds), GemmLaunchSeconds, ">= 0");
        Check(GemmBlendExponent >= 1, nameof(GemmBlendExponent), GemmBlendExponent, ">= 1");
        Check(ElementwiseMemoryEfficiency is > 0 and <= 1, nameof(ElementwiseMemoryEfficiency), ElementwiseMemoryEfficiency, "in (0, 1]");
        Check(ElementwiseLaunchSeconds >= 0, nameof(ElementwiseLaunchSeconds), ElementwiseLaunchSeconds, ">= 0");
        return this;
    }

    private static void Check(bool ok, string field, double value, string expected)
    {
        if (!ok || !double.IsFinite(value))
        {
            throw new StrataException($"Device parameter {field} is {value}; expected a finite number {expected}.");
        }
    }
}
