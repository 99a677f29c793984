using Strata.Core;
using Strata.Performance.Operators;
using Strata.Performance.Profiles;

namespace Strata.Performance.Calibration;

/// <summary>Fits the serving-stack overhead and attention efficiency of <see cref="DeviceModel"/> to end-to-end measurements.</summary>
/// <remarks>
/// The operator parameters stay fixed (they come from the operator profiles); only the per-layer and per-sequence
/// overheads, the attention efficiency and the large-step loss are fitted: least squares on ln(predicted / measured) over every row's
/// prefill time (batch x prompt) and decode step time (batch at the mean context), Levenberg-Marquardt from a fixed start.
/// </remarks>
public static class ServingOverheadFitter
{
    /// <summary>Fits one overhead to measured rows of possibly several deployments (same device type).</summary>
    /// <param name="rows">Each measured row with the deployment it measures.</param>
    /// <param name="parameters">The device's operator parameters.</param>
    /// <param name="collectives">Measured all-reduce times, or null.</param>
    /// <param name="cluster">NCCL profile cluster, or null.</param>
    /// <returns>The overhead and the rms log error of the fit.</returns>
    /// <exception cref="StrataException">There are no rows.</exception>
    public static (ServingOverhead Overhead, double RmsLogError) Fit(
        IReadOnlyList<(Deployment Deployment, ProfileRow Row)> rows, DeviceParameters parameters, CollectiveProfileTable? collectives, string? cluster)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(parameters);
        if (rows.Count == 0)
        {
            throw new StrataException("Cannot fit the serving overhead: no end-to-end measurements.");
        }

        var byDeployment = rows.GroupBy(pair => pair.Deployment).Select(group => (
            Deployment: group.Key,
            Shapes: group.Select(pair => (
                Prefill: BatchShape.Prefill(pair.Row.BatchSize, pair.Row.PromptTokens),
                Decode: BatchShape.Decode(pair.Row.BatchSize, pair.Row.MeanDecodeContextTokens),
                LogPrompt: Math.Log(pair.Row.PromptSeconds),
                LogToken: Math.Log(pair.Row.TokenSeconds))).ToArray())).ToArray();

        void Residuals(double[] x, double[] r)
        {
            var overhead = Decode(x);
            var i = 0;
            foreach (var (deployment, shapes) in byDeployment)
            {
                var model = new DeviceModel(deployment, parameters, overhead, collectives, cluster);
                foreach (var shape in shapes)
                {
                    r[i++] = Math.Log(model.StepSeconds(shape.Prefill)) - shape.LogPrompt;
                    r[i++] = Math.Log(model.StepSeconds(shape.Decode)) - shape.LogToken;
                }
            }
        }

        var (point, sumSquares) = LevenbergMarquardt.Minimize(Residuals, [Math.Log(1e-4), Math.Log(1e-4), 0.0, 0.0, Math.Log(4096)], 2 * rows.Count);
        return (Decode(point), Math.Sqrt(sumSquares / (2 * rows.Count)));
    }

    private static ServingOverhead Decode(double[] x) => new(
        Math.Exp(Math.Clamp(x[0], -30, 3)),
        Math.Exp(Math.Clamp(x[1], -30, 3)),
        Math.Clamp(1.0 / (1.0 + Math.Exp(-x[2])), 1e-4, 1.0),
        MaxLargeStepPenalty / (1.0 + Math.Exp(-x[3])),
        Math.Exp(Math.Clamp(x[4], 0, 20)));

    // As for the roofline: measured prefill throughput past its peak falls by 20-40%, never to a tenth.
    private const double MaxLargeStepPenalty = 0.6;
}
