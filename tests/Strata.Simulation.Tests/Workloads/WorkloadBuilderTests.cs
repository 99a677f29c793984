using Strata.Core;
using Strata.Simulation.Workloads;

namespace Strata.Simulation.Tests.Workloads;

public sealed class WorkloadBuilderTests
{
    [Fact]
    public void Built_in_traces_have_their_published_sizes_and_rates()
    {
        var code = Trace.Load("code");
        var conv = Trace.Load("conv");
        Assert.Equal(8819, code.Rows.Count);
        Assert.Equal(19366, conv.Rows.Count);
        Assert.InRange(code.RateRequestsPerSecond, 2.5, 2.65);
        Assert.InRange(conv.RateRequestsPerSecond, 5.4, 5.6);
    }

    [Fact]
    public void A_rescaled_trace_arrives_at_the_target_rate_over_the_window()
    {
        var requests = WorkloadBuilder.Build(new WorkloadOptions { Trace = "conv", RateRequestsPerSecond = 80, DurationSeconds = 600 });
        Assert.InRange(requests.Length, 80 * 600 * 0.97, 80 * 600 * 1.03);
        Assert.True(requests[^1].ArrivalSeconds <= 600);
        Assert.All(requests.Zip(requests.Skip(1)), pair => Assert.True(pair.First.ArrivalSeconds <= pair.Second.ArrivalSeconds));
    }

    [Theory]
    [InlineData("conv", 5, 30)]
    [InlineData("conv", 20, 60)]
    [InlineData("code", 3, 7000)]
    public void A_short_or_long_window_gets_exactly_rate_times_window_requests(string trace, double rateRps, double windowSeconds)
    {
        var requests = WorkloadBuilder.Build(new WorkloadOptions { Trace = trace, RateRequestsPerSecond = rateRps, DurationSeconds = windowSeconds });
        Assert.Equal((int)Math.Round(rateRps * windowSeconds), requests.Length);
        Assert.InRange(requests[^1].ArrivalSeconds, 0, windowSeconds);
        Assert.Equal(0, requests[0].ArrivalSeconds);
        Assert.All(requests.Zip(requests.Skip(1)), pair => Assert.True(pair.First.ArrivalSeconds <= pair.Second.ArrivalSeconds));
    }

    [Fact]
    public void Poisson_arrivals_have_the_requested_rate_and_are_reproducible()
    {
        var options = new WorkloadOptions { RateRequestsPerSecond = 10, Requests = 50_000, Seed = 5, PromptTokens = new LengthDistribution.Fixed(100), OutputTokens = new LengthDistribution.Uniform(1, 10) };
        var first = WorkloadBuilder.Build(options);
        var second = WorkloadBuilder.Build(options);
        Assert.Equal(first, second);
        Assert.InRange(first.Length / first[^1].ArrivalSeconds, 9.8, 10.2);
        Assert.All(first, r => Assert.InRange(r.OutputTokens, 1, 10));
    }

    [Fact]
    public void Gamma_arrivals_keep_the_mean_rate_and_raise_the_variance()
    {
        var options = new WorkloadOptions { RateRequestsPerSecond = 10, Requests = 50_000, Seed = 5, Arrivals = Core.Scenarios.ArrivalProcess.Gamma, Burstiness = 4 };
        var requests = WorkloadBuilder.Build(options);
        var gaps = requests.Zip(requests.Skip(1), (a, b) => b.ArrivalSeconds - a.ArrivalSeconds).ToArray();
        var mean = gaps.Average();
        var cv2 = gaps.Select(g => (g - mean) * (g - mean)).Average() / (mean * mean);
        Assert.InRange(mean, 0.098, 0.102);
        Assert.InRange(cv2, 3.6, 4.4);
    }

    [Fact]
    public void A_malformed_trace_row_names_file_line_and_column()
    {
        var error = Assert.Throws<StrataException>(() => Trace.Parse("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,374,44\n2023-11-16 18:15:47.00,abc,44\n", "t.csv"));
        Assert.Equal("t.csv: line 3 column 'ContextTokens' is 'abc'; expected a positive integer.", error.Message);
    }

    [Fact]
    public void A_zero_rate_is_rejected()
    {
        var error = Assert.Throws<StrataException>(() => WorkloadBuilder.Build(new WorkloadOptions { Trace = "conv", RateRequestsPerSecond = 0 }));
        Assert.Contains("--rate is 0", error.Message);
    }
}
