using Strata.Core;
using Strata.Performance.Operators;
using Strata.Performance.Profiles;

namespace Strata.Performance.Calibration;

/// <summary>Fits a GPU's <see cref="DeviceParameters"/> jointly to the operator profiles of every model measured on it.</summary>
/// <remarks>
/// Least squares on ln(predicted / measured) over every per-layer operator time (embedding excluded) of the rows
/// fitted, Levenberg-Marquardt in logistic (efficiencies) and log (sizes, latencies) coordinates from a fixed start,
/// so the same rows give the same parameters. To keep the fit fast the rows are thinned to token counts up to 128
/// and multiples of 256 (every decode-sized batch and a prefill every 256 tokens).
/// </remarks>
public static class DeviceFitter
{
    private static readonly LayerOperator[] Fitted =
    [
        LayerOperator.InputNorm, LayerOperator.QkvProjection, LayerOperator.Rope, LayerOperator.OutputProjection, LayerOperator.PostAttentionNorm,
        LayerOperator.MlpUp, LayerOperator.MlpActivation, LayerOperator.MlpDown, LayerOperator.ResidualAdd,
    ];

    /// <summary>Whether a row is in the thinned training grid.</summary>
    public static bool InTrainingGrid(OperatorProfileRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return row.Tokens <= 128 || row.Tokens % 256 == 0;
    }

    /// <summary>Fits <paramref name="rows"/> (one GPU) measured against <paramref name="rates"/>.</summary>
    /// <exception cref="StrataException">No rows, or rows of several GPUs.</exception>
    public static DeviceFit Fit(IReadOnlyList<OperatorProfileRow> rows, DeviceRates rates)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var grid = rows.Where(InTrainingGrid).ToArray();
        if (grid.Length == 0)
        {
            throw new StrataException("Cannot fit device parameters: no operator measurements.");
        }

        var gpus = grid.Select(row => row.Gpu).Distinct().ToArray();
        if (gpus.Length != 1)
        {
            throw new StrataException($"Cannot fit one device's parameters to rows of {gpus.Length} GPUs ({string.Join(", ", gpus)}); expected rows of one GPU.");
        }

        var samples = new List<(LayerOperator Op, LayerShape Shape, int Tokens, int Tp, double LogSeconds)>();
        foreach (var row in grid)
        {
            foreach (var op in Fitted)
            {
                if (row.Has(op))
                {
                    samples.Add((op, row.Shape, row.Tokens, row.TensorParallel, Math.Log(row.Seconds(op))));
                }
            }
        }

        void Residuals(double[] x, double[] r)
        {
            var p = Decode(x);
            for (var i = 0; i < samples.Count; i++)
            {
                var s = samples[i];
                r[i] = Math.Log(OperatorCosts.Seconds(p, rates, s.Op, s.Shape, s.Tokens, s.Tp)) - s.LogSeconds;
            }
        }

        var (point, sumSquares) = LevenbergMarquardt.Minimize(Residuals, Start, samples.Count);
        return new DeviceFit(gpus[0], Decode(point), Math.Sqrt(sumSquares / samples.Count), samples.Count,
            grid.Select(row => row.Model).Distinct().Order(StringComparer.Ordinal).ToArray());
    }

    // logit(e), ln m0, ln n0, ln k0, logit(e_mem), ln(launch us), ln(q - 1), logit(e_elem), ln(launch us).
    private static readonly double[] Start = [1.0, Math.Log(64), Math.Log(256), Math.Log(256), 1.0, Math.Log(8), Math.Log(3), 0.0, Math.Log(5)];

    private static DeviceParameters Decode(double[] x) => new(
        Logistic(x[0]),
        Math.Exp(Math.Clamp(x[1], -20, 20)),
        Math.Exp(Math.Clamp(x[2], -20, 20)),
        Math.Exp(Math.Clamp(x[3], -20, 20)),
        Logistic(x[4]),
        Math.Exp(Math.Clamp(x[5], -20, 10)) * 1e-6,
        1.0 + Math.Exp(Math.Clamp(x[6], -10, 4)),
        Logistic(x[7]),
        Math.Exp(Math.Clamp(x[8], -20, 10)) * 1e-6);

    private static double Logistic(double x) => Math.Clamp(1.0 / (1.0 + Math.Exp(-x)), 1e-6, 1.0);
}
