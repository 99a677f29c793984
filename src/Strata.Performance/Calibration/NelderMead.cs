namespace Strata.Performance.Calibration;

/// <summary>Derivative-free minimisation by the Nelder-Mead simplex method (standard coefficients).</summary>
internal static class NelderMead
{
    /// <summary>Minimises <paramref name="objective"/> from <paramref name="start"/>; returns the best point and value.</summary>
    public static (double[] Point, double Value) Minimize(
        Func<double[], double> objective,
        double[] start,
        double initialStep,
        int maxEvaluations,
        double tolerance = 1e-10)
    {
        var n = start.Length;
        var simplex = new double[n + 1][];
        var values = new double[n + 1];
        simplex[0] = (double[])start.Clone();
        for (var i = 0; i < n; i++)
        {
            simplex[i + 1] = (double[])start.Clone();
            simplex[i + 1][i] += initialStep;
        }

        for (var i = 0; i <= n; i++)
        {
            values[i] = objective(simplex[i]);
        }

        var evaluations = n + 1;
        var order = new int[n + 1];
        var centroid = new double[n];
        while (evaluations < maxEvaluations)
        {
            for (var i = 0; i <= n; i++)
            {
                order[i] = i;
            }

            Array.Sort(order, (a, b) => values[a].CompareTo(values[b]));
            int best = order[0], worst = order[n], secondWorst = order[n - 1];
            if (Math.Abs(values[worst] - values[best]) <= tolerance * (Math.Abs(values[best]) + tolerance))
            {
                break;
            }

            Array.Clear(centroid);
            foreach (var index in order.AsSpan(0, n))
            {
                for (var d = 0; d < n; d++)
                {
                    centroid[d] += simplex[index][d] / n;
                }
            }

            var reflected = Along(centroid, simplex[worst], -1.0);
            var reflectedValue = objective(reflected);
            evaluations++;
            if (reflectedValue < values[best])
            {
                var expanded = Along(centroid, simplex[worst], -2.0);
                var expandedValue = objective(expanded);
                evaluations++;
                (simplex[worst], values[worst]) = expandedValue < reflectedValue ? (expanded, expandedValue) : (reflected, reflectedValue);
            }
            else if (reflectedValue < values[secondWorst])
            {
                (simplex[worst], values[worst]) = (reflected, reflectedValue);
            }
            else
            {
                var outside = reflectedValue < values[worst];
                var contracted = Along(centroid, outside ? reflected : simplex[worst], 0.5);
                var contractedValue = objective(contracted);
                evaluations++;
                if (contractedValue < Math.Min(reflectedValue, values[worst]))
                {
                    (simplex[worst], values[worst]) = (contracted, contractedValue);
                }
                else
                {
                    for (var i = 0; i <= n; i++)
                    {
                        if (i == best)
                        {
                            continue;
                        }

                        simplex[i] = Along(simplex[best], simplex[i], 0.5);
                        values[i] = objective(simplex[i]);
                        evaluations++;
                    }
                }
            }
        }

        var winner = 0;
        for (var i = 1; i <= n; i++)
        {
            if (values[i] < values[winner])
            {
                winner = i;
            }
        }

        return (simplex[winner], values[winner]);
    }

    // centroid + t * (point - centroid)
    private static double[] Along(double[] centroid, double[] point, double t)
    {
        var result = new double[centroid.Length];
        for (var d = 0; d < result.Length; d++)
        {
            result[d] = centroid[d] + t * (point[d] - centroid[d]);
        }

        return result;
    }
}
