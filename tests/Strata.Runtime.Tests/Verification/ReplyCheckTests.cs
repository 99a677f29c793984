using Grpc.Core;
using Strata.Runtime.Sampling;
using Strata.Runtime.Serving;
using Strata.Runtime.Tests.Coordination;
using Strata.Runtime.Verification;

namespace Strata.Runtime.Tests.Verification;

public sealed class ReplyCheckTests
{
    [Fact]
    public void FirstNonFinite_finds_the_first_bad_value_at_every_length_and_position_as_a_scalar_scan_does()
    {
        var random = new Random(3);
        float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, BitConverter.Int32BitsToSingle(unchecked((int)0xFFC0_0001))];
        for (var length = 0; length <= 80; length++)
        {
            // Finite extremes included: the largest finite value and subnormals are not NaN or infinity.
            var values = Enumerable.Range(0, length).Select(i => (i % 7) switch { 0 => float.MaxValue, 1 => -float.Epsilon, _ => (float)random.NextDouble() - 0.5f }).ToArray();
            Assert.Equal(-1, HiddenStateCheck.FirstNonFinite(values));
            for (var position = 0; position < length; position++)
            {
                var copy = (float[])values.Clone();
                copy[position] = specials[position % specials.Length];
                if (position + 3 < length)
                {
                    copy[position + 3] = float.NaN; // a later bad value never hides the first
                }

                Assert.Equal(position, HiddenStateCheck.FirstNonFinite(copy));
            }
        }
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void The_sampler_refuses_non_finite_logits_greedy_or_sampled(float bad)
    {
        float[] logits = [0.5f, bad, 1f, 0f];
        Assert.Throws<ArgumentException>(() => new TokenSampler(SamplingOptions.Greedy).Sample(logits));
        Assert.Throws<ArgumentException>(() => new TokenSampler(new SamplingOptions { Temperature = 1, Seed = 1 }).Sample(logits));
        Assert.Throws<ArgumentException>(() => TokenSampler.ArgMax([float.NaN, float.NaN]));
    }

    [Fact]
    public void Every_hidden_state_of_honest_runs_on_unseen_prompts_lies_inside_the_profiled_envelope()
    {
        var model = TestModels.Tiny();
        var envelope = ActivationEnvelope.ProfileFolder(TestModels.TinyDirectory(), TestSwarm.Load(0, 0, head: true));
        var width = model.Config.HiddenSize;
        var random = new DeterministicRandom(99);
        for (var prompt = 0; prompt < 12; prompt++)
        {
            var tokens = Enumerable.Range(0, 1 + (int)(random.NextUInt64() % 40)).Select(_ => (int)(random.NextUInt64() % (ulong)model.Config.VocabularySize)).ToArray();
            var hidden = model.Embed(tokens);
            var session = model.CreateSession();
            Assert.Null(envelope.Explain(hidden, tokens.Length, width, 0));
            for (var b = 0; b < model.Config.LayerCount; b++)
            {
                model.ForwardBlocks(session, b, 1, hidden, tokens.Length);
                Assert.True(envelope.Explain(hidden, tokens.Length, width, b + 1) is null, $"prompt {prompt}, boundary {b + 1}: {envelope.Explain(hidden, tokens.Length, width, b + 1)}");
            }
        }
    }

    [Fact]
    public void The_envelope_refuses_zeros_huge_and_non_finite_rows_and_names_the_token()
    {
        var envelope = ActivationEnvelope.ProfileFolder(TestModels.TinyDirectory(), TestSwarm.Load(0, 0, head: true));
        var generic = ActivationEnvelope.Generic(4);
        var width = 64;
        var good = TestModels.Tiny().Embed([5, 6]);
        Assert.Null(envelope.Explain(good, 2, width, 0));
        foreach (var check in new[] { envelope, generic })
        {
            var zeros = (float[])good.Clone();
            Array.Clear(zeros, width, width);
            Assert.Contains("token 1", check.Explain(zeros, 2, width, 0), StringComparison.Ordinal);
            Assert.NotNull(check.Explain(Enumerable.Repeat(3e38f, 2 * width).ToArray(), 2, width, 4));
            var nan = (float[])good.Clone();
            nan[3] = float.NaN;
            Assert.Contains("non-finite", check.Explain(nan, 2, width, 0), StringComparison.Ordinal);
        }

        Assert.True(envelope.MaxRms(4) < ActivationEnvelope.GenericMaxRms, "the profile is tighter than the generic bound");
    }

    [Fact]
    public async Task A_block_server_refuses_non_finite_inputs_and_wrapping_block_ranges_with_invalid_argument()
    {
        await using var server = await BlockServerHost.StartAsync(TestSwarm.Load(0, 4, head: false));
        using var client = new BlockServerClient(server.Address);
        var hidden = TestModels.Tiny().Embed([1, 2]);
        hidden[70] = float.NaN;
        var nan = await Assert.ThrowsAsync<RpcException>(() => client.ForwardAsync("s", 0, 4, 0, hidden, 2, 64));
        Assert.Equal(StatusCode.InvalidArgument, nan.StatusCode);
        Assert.Contains("token 1", nan.Status.Detail, StringComparison.Ordinal);
        var wrap = await Assert.ThrowsAsync<RpcException>(() => client.ForwardAsync("s", 1, int.MaxValue, 0, new float[64], 1, 64));
        Assert.Equal(StatusCode.InvalidArgument, wrap.StatusCode);
        Assert.Equal(0, server.SessionCount);
    }
}
