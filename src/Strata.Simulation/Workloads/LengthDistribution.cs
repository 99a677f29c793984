using Strata.Core;

namespace Strata.Simulation.Workloads;

/// <summary>How a synthetic workload draws token counts.</summary>
public abstract record LengthDistribution
{
    /// <summary>Draws one token count (>= 1).</summary>
    public abstract int Sample(Random random);

    /// <summary>Always the same count.</summary>
    public sealed record Fixed(int Tokens) : LengthDistribution
    {
        /// <inheritdoc />
        public override int Sample(Random random) => Tokens;
    }

    /// <summary>Uniform on [Min, Max].</summary>
    public sealed record Uniform(int Min, int Max) : LengthDistribution
    {
        /// <inheritdoc />
        public override int Sample(Random random) => random.Next(Min, Max + 1);
    }

    /// <summary>Log-normal with the given median and 90th percentile, rounded, at least 1, at most <paramref name="Max"/>.</summary>
    public sealed record LogNormal(double Median, double P90, int Max = 1 << 20) : LengthDistribution
    {
        private readonly double _sigma = Math.Log(P90 / Median) / 1.2815515655446004;

        /// <inheritdoc />
        public override int Sample(Random random)
        {
            // Box-Muller: one standard normal from two uniforms.
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            var normal = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            return (int)Math.Clamp(Math.Round(Median * Math.Exp(_sigma * normal)), 1, Max);
        }
    }

    /// <summary>Draws (with replacement) from the lengths of a recorded trace.</summary>
    public sealed record Empirical(IReadOnlyList<int> Values, string Source) : LengthDistribution
    {
        /// <inheritdoc />
        public override int Sample(Random random) => Values[random.Next(Values.Count)];
    }

    /// <summary>Checks the parameters; <paramref name="what"/> names the field in messages.</summary>
    /// <exception cref="StrataException">A parameter is out of range.</exception>
    public LengthDistribution Validate(string what)
    {
        var ok = this switch
        {
            Fixed f => f.Tokens >= 1,
            Uniform u => u.Min >= 1 && u.Max >= u.Min,
            LogNormal l => l.Median >= 1 && l.P90 > l.Median && double.IsFinite(l.P90),
            Empirical e => e.Values.Count > 0,
            _ => false,
        };
        return ok ? this : throw new StrataException($"{what} is {this}; expected token counts >= 1 (uniform: min <= max; lognormal: p90 > median >= 1).");
    }
}
