using Strata.Simulation.Metrics;

namespace Strata.Simulation.Tests.Metrics;

public sealed class LatencyRecorderTests
{
    [Fact]
    public void Small_runs_have_exact_percentiles()
    {
        var recorder = new LatencyRecorder();
        for (var i = 1; i <= 101; i++)
        {
            recorder.Add(i);
        }

        Assert.True(recorder.IsExact);
        Assert.Equal(51, recorder.Quantile(0.5));
        Assert.Equal(91, recorder.Quantile(0.9));
        Assert.Equal(51, recorder.Mean, 12);
    }

    [Fact]
    public void Large_runs_stay_within_the_sketch_accuracy_of_the_exact_percentiles()
    {
        var random = new Random(3);
        var values = Enumerable.Range(0, 200_000).Select(_ => Math.Exp(random.NextDouble() * 10 - 5)).ToArray();
        var recorder = new LatencyRecorder(exactCapacity: 1000);
        foreach (var value in values)
        {
            recorder.Add(value);
        }

        Array.Sort(values);
        Assert.False(recorder.IsExact);
        foreach (var q in new[] { 0.5, 0.9, 0.99 })
        {
            var exact = values[(int)Math.Floor(q * (values.Length - 1))];
            Assert.InRange(recorder.Quantile(q), exact * 0.99, exact * 1.01);
        }
    }
}
