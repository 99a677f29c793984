using Strata.Core;
using Strata.Performance.Profiles;
using Strata.Performance.Roofline;

namespace Strata.Performance.Calibration;

/// <summary>Fits a roofline's efficiency factors and overheads to measured timings.</summary>
/// <remarks>
/// Least squares on log error: minimises the mean of ln(predicted / measured)^2 over every row's prompt time
/// (a prefill of batch x prompt tokens) and token time (a decode step of the batch at the mean context), so a
/// 10 ms step counts as much as a 10 s one. Efficiencies are fitted through a logistic transform, overheads
/// and the knee through a log transform, with a deterministic Nelder-Mead search restarted from its best point.
/// </remarks>
public static class RooflineCalibrator
{
    private const int Restarts = 4;
    private const int EvaluationsPerRestart = 4000;

    // Measured prefill throughput past its peak falls by 20-40%, never to a tenth; a looser bound lets a fit on
    // small steps extrapolate absurdly slow large ones.
    private const double MaxLargeBatchPenalty = 0.6;

    /// <summary>Fits the factors of <paramref name="deployment"/> to <paramref name="rows"/> measured on it.</summary>
    /// <exception cref="StrataException">There are no rows.</exception>
    public static CalibrationFit Fit(Deployment deployment, IReadOnlyList<ProfileRow> rows)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            throw new StrataException($"Cannot calibrate {deployment.Label}: no measured rows.");
        }

        var shapes = rows.Select(row => (
            Prefill: BatchShape.Prefill(row.BatchSize, row.PromptTokens),
            Decode: BatchShape.Decode(row.BatchSize, row.MeanDecodeContextTokens),
            LogPrompt: Math.Log(row.PromptSeconds),
            LogToken: Math.Log(row.TokenSeconds))).ToArray();

        double Objective(double[] x)
        {
            var model = new RooflineModel(deployment, Decode(x));
            var sum = 0.0;
            foreach (var shape in shapes)
            {
                var prompt = Math.Log(model.StepSeconds(shape.Prefill)) - shape.LogPrompt;
                var token = Math.Log(model.StepSeconds(shape.Decode)) - shape.LogToken;
                sum += prompt * prompt + token * token;
            }

            return sum / (2.0 * shapes.Length);
        }

        var point = Encode(RooflineCalibration.Default);
        var value = double.PositiveInfinity;
        for (var restart = 0; restart < Restarts; restart++)
        {
            (point, value) = NelderMead.Minimize(Objective, point, initialStep: 1.0, EvaluationsPerRestart);
        }

        return new CalibrationFit(Decode(point), Math.Sqrt(value), rows.Count);
    }

    private static double[] Encode(RooflineCalibration c) =>
    [
        Logit(c.ComputeEfficiency * 0.999),
        Logit(c.MemoryEfficiency * 0.999),
        Math.Log(c.StepOverheadSeconds + 1e-6),
        Math.Log(c.SequenceOverheadSeconds + 1e-7),
        Logit(Math.Clamp(c.LargeBatchPenalty / MaxLargeBatchPenalty, 1e-3, 0.999)),
        Math.Log(c.LargeBatchKneeTokens),
    ];

    private static RooflineCalibration Decode(double[] x) => new(
        Logistic(x[0]),
        Logistic(x[1]),
        Math.Exp(Math.Clamp(x[2], -30, 5)),
        Math.Exp(Math.Clamp(x[3], -30, 5)),
        Logistic(x[4]) * MaxLargeBatchPenalty,
        Math.Exp(Math.Clamp(x[5], 0, 20)));

    private static double Logistic(double x) => Math.Clamp(1.0 / (1.0 + Math.Exp(-x)), 1e-6, 1.0);

    private static double Logit(double p) => Math.Log(p / (1 - p));
}
