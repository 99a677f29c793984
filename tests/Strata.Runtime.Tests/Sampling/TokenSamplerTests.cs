using Strata.Core;
using Strata.Runtime.Sampling;

namespace Strata.Runtime.Tests.Sampling;

public sealed class TokenSamplerTests
{
    [Fact]
    public void Greedy_picks_the_largest_logit_and_the_lowest_id_on_ties()
    {
        var sampler = new TokenSampler(SamplingOptions.Greedy);
        Assert.Equal(2, sampler.Sample([0f, 1f, 3f, -1f]));
        Assert.Equal(1, sampler.Sample([0f, 3f, 3f, -1f]));
    }

    [Fact]
    public void Tiny_top_p_keeps_only_the_most_likely_token()
    {
        var sampler = new TokenSampler(new SamplingOptions { Temperature = 1, TopP = 1e-6, Seed = 3 });
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(3, sampler.Sample([0f, 1f, 0.5f, 2f]));
        }
    }

    [Fact]
    public void Sampled_frequencies_follow_the_softmax()
    {
        float[] logits = [0f, MathF.Log(2f), MathF.Log(3f), MathF.Log(4f)]; // probabilities 0.1, 0.2, 0.3, 0.4
        var sampler = new TokenSampler(new SamplingOptions { Temperature = 1, Seed = 11 });
        var counts = new int[4];
        const int Draws = 20_000;
        for (var i = 0; i < Draws; i++)
        {
            counts[sampler.Sample(logits)]++;
        }

        for (var token = 0; token < 4; token++)
        {
            Assert.InRange(counts[token] / (double)Draws, (token + 1) / 10.0 - 0.015, (token + 1) / 10.0 + 0.015);
        }
    }

    [Fact]
    public void Top_p_drops_the_tail()
    {
        float[] logits = [0f, MathF.Log(2f), MathF.Log(3f), MathF.Log(4f)];
        var sampler = new TokenSampler(new SamplingOptions { Temperature = 1, TopP = 0.65, Seed = 2 }); // 0.4 < 0.65 <= 0.4 + 0.3: keeps two
        for (var i = 0; i < 500; i++)
        {
            Assert.Contains(sampler.Sample(logits), new[] { 2, 3 });
        }
    }

    [Fact]
    public void Same_seed_same_stream()
    {
        var logits = TestData.Random(300, 4, 3f);
        var a = new TokenSampler(new SamplingOptions { Temperature = 0.8, TopP = 0.9, Seed = 42 });
        var b = new TokenSampler(new SamplingOptions { Temperature = 0.8, TopP = 0.9, Seed = 42 });
        Assert.Equal(Enumerable.Range(0, 50).Select(_ => a.Sample(logits)), Enumerable.Range(0, 50).Select(_ => b.Sample(logits)));
    }

    [Theory]
    [InlineData(-1, 1)]
    [InlineData(double.NaN, 1)]
    [InlineData(1, 0)]
    [InlineData(1, 1.5)]
    public void Out_of_range_options_are_user_errors(double temperature, double topP) =>
        Assert.Throws<StrataException>(() => new TokenSampler(new SamplingOptions { Temperature = temperature, TopP = topP }));
}
