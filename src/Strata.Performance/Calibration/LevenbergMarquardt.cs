namespace Strata.Performance.Calibration;

/// <summary>Nonlinear least squares by Levenberg-Marquardt with a forward-difference Jacobian (deterministic).</summary>
internal static class LevenbergMarquardt
{
    /// <summary>Minimises the sum of squares of the residuals <paramref name="residuals"/> writes for a point.</summary>
    /// <param name="residuals">Fills the residual vector (length <paramref name="count"/>) for a point.</param>
    /// <param name="start">Starting point.</param>
    /// <param name="count">Number of residuals.</param>
    /// <param name="maxIterations">Iteration cap.</param>
    /// <returns>The best point and its sum of squares.</returns>
    public static (double[] Point, double SumSquares) Minimize(Action<double[], double[]> residuals, double[] start, int count, int maxIterations = 200)
    {
        var n = start.Length;
        var x = (double[])start.Clone();
        var r = new double[count];
        var trial = new double[count];
        var shifted = new double[count];
        var jacobian = new double[n][];
        for (var j = 0; j < n; j++)
        {
            jacobian[j] = new double[count];
        }

        residuals(x, r);
        var cost = SumSquares(r);
        var lambda = 1e-3;
        var normal = new double[n, n];
        var gradient = new double[n];
        for (var iteration = 0; iteration < maxIterations; iteration++)
        {
            for (var j = 0; j < n; j++)
            {
                var step = 1e-6 * Math.Max(1.0, Math.Abs(x[j]));
                var probe = (double[])x.Clone();
                probe[j] += step;
                residuals(probe, shifted);
                for (var i = 0; i < count; i++)
                {
                    jacobian[j][i] = (shifted[i] - r[i]) / step;
                }
            }

            for (var a = 0; a < n; a++)
            {
                gradient[a] = Dot(jacobian[a], r);
                for (var b = 0; b <= a; b++)
                {
                    normal[a, b] = normal[b, a] = Dot(jacobian[a], jacobian[b]);
                }
            }

            var improved = false;
            for (var attempt = 0; attempt < 12 && !improved; attempt++)
            {
                var system = new double[n, n];
                var rhs = new double[n];
                for (var a = 0; a < n; a++)
                {
                    for (var b = 0; b < n; b++)
                    {
                        system[a, b] = normal[a, b];
                    }

                    system[a, a] += lambda * Math.Max(normal[a, a], 1e-12);
                    rhs[a] = -gradient[a];
                }

                if (Solve(system, rhs) is not { } delta)
                {
                    lambda *= 10;
                    continue;
                }

                var candidate = new double[n];
                for (var j = 0; j < n; j++)
                {
                    candidate[j] = x[j] + delta[j];
                }

                residuals(candidate, trial);
                var candidateCost = SumSquares(trial);
                if (double.IsFinite(candidateCost) && candidateCost < cost)
                {
                    var relative = (cost - candidateCost) / Math.Max(cost, 1e-300);
                    x = candidate;
                    (r, trial) = (trial, r);
                    cost = candidateCost;
                    lambda = Math.Max(lambda / 3, 1e-12);
                    improved = true;
                    if (relative < 1e-12)
                    {
                        return (x, cost);
                    }
                }
                else
                {
                    lambda *= 4;
                }
            }

            if (!improved)
            {
                break;
            }
        }

        return (x, cost);
    }

    private static double Dot(double[] a, double[] b)
    {
        var sum = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    private static double SumSquares(double[] values)
    {
        var sum = 0.0;
        foreach (var value in values)
        {
            sum += value * value;
        }

        return double.IsNaN(sum) ? double.PositiveInfinity : sum;
    }

    // Gaussian elimination with partial pivoting; null when singular.
    private static double[]? Solve(double[,] a, double[] b)
    {
        var n = b.Length;
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var row = col + 1; row < n; row++)
            {
                if (Math.Abs(a[row, col]) > Math.Abs(a[pivot, col]))
                {
                    pivot = row;
                }
            }

            if (Math.Abs(a[pivot, col]) < 1e-300 || !double.IsFinite(a[pivot, col]))
            {
                return null;
            }

            if (pivot != col)
            {
                for (var k = 0; k < n; k++)
                {
                    (a[col, k], a[pivot, k]) = (a[pivot, k], a[col, k]);
                }

                (b[col], b[pivot]) = (b[pivot], b[col]);
            }

            for (var row = col + 1; row < n; row++)
            {
                var factor = a[row, col] / a[col, col];
                for (var k = col; k < n; k++)
                {
                    a[row, k] -= factor * a[col, k];
                }

                b[row] -= factor * b[col];
            }
        }

        var x = new double[n];
        for (var row = n - 1; row >= 0; row--)
        {
            var sum = b[row];
            for (var k = row + 1; k < n; k++)
            {
                sum -= a[row, k] * x[k];
            }

            x[row] = sum / a[row, row];
        }

        return x;
    }
}
