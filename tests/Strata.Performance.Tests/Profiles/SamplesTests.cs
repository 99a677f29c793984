using Strata.Performance.Profiles;

namespace Strata.Performance.Tests.Profiles;

public sealed class SamplesTests
{
    [Fact]
    public void The_median_is_the_middle_value_or_the_mean_of_the_middle_two_in_any_order()
    {
        Assert.Equal(3, Samples.Median([5, 1, 3]));
        Assert.Equal(2.5, Samples.Median([4, 1, 3, 2]));
        Assert.Equal(7, Samples.Median([7]));
        Assert.Throws<ArgumentException>(() => Samples.Median([]));

        // Against sorting by hand on random samples: at most half the values lie on either side.
        var random = new Random(3);
        for (var trial = 0; trial < 200; trial++)
        {
            var values = Enumerable.Range(0, random.Next(1, 40)).Select(_ => Math.Round(random.NextDouble() * 10, 1)).ToArray();
            var median = Samples.Median(values);
            Assert.True(values.Count(v => v < median) <= values.Length / 2 && values.Count(v => v > median) <= values.Length / 2, string.Join(",", values));
        }
    }
}
