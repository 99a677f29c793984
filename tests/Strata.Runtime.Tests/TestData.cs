using Strata.Runtime.Sampling;

namespace Strata.Runtime.Tests;

/// <summary>Seeded data and tolerant comparisons for the kernel and engine tests.</summary>
internal static class TestData
{
    public static float[] Random(int length, ulong seed, float bound = 1f)
    {
        var random = new DeterministicRandom(seed);
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = random.NextSymmetric(bound);
        }

        return values;
    }

    // Relative to each element, with a floor of 5% of the largest magnitude: near-zero elements that come
    // from cancellation carry the absolute error of their large neighbours.
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relativeTolerance, string context)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = 0.0;
        foreach (var value in expected)
        {
            scale = Math.Max(scale, Math.Abs(value));
        }

        for (var i = 0; i < expected.Length; i++)
        {
            var error = Math.Abs(expected[i] - actual[i]);
            if (error > relativeTolerance * Math.Max(1e-6, Math.Max(Math.Abs(expected[i]), scale * 0.05)))
            {
                Assert.Fail($"{context}: element {i} expected {expected[i]:R} got {actual[i]:R} (error {error:G3}, tolerance {relativeTolerance:G3} relative).");
            }
        }
    }
}
