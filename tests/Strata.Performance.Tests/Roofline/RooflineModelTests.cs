using FsCheck;
using FsCheck.Fluent;
using Strata.Performance.Roofline;

namespace Strata.Performance.Tests.Roofline;

public sealed class RooflineModelTests
{
    // tiny-llama-test: h = 64, 4 layers, 4 heads, 2 KV heads (head 16, kv width 32), FFN 172 gated, vocab 256, untied; fp32.
    private const double ParametersPerBlock = 2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 172; // 45,312
    private const double ActivationBytesPerTokenPerLayer = 4 * (10 * 64 + 3 * 172);     // 4,624
    private const double KvBytesPerTokenPerLayer = 2 * 32 * 4;                           // 256

    [Fact]
    public void Prefill_flops_and_bytes_match_hand_computed_counts_for_the_tiny_model()
    {
        var model = new RooflineModel(TestDeployments.TinyOnRound(), RooflineCalibration.Ideal);

        var cost = model.Cost(BatchShape.Prefill(requests: 1, promptTokens: 8));

        var linearFlops = 2.0 * 8 * ParametersPerBlock * 4;                      // 2,899,968
        var attentionFlops = 4.0 * 64 * (8 * 9 / 2) * 4;                          // 36 causal pairs: 36,864
        var headFlops = 2.0 * 1 * 256 * 64;                                       // last token only: 32,768
        var linearBytes = (ParametersPerBlock * 4 + 8 * ActivationBytesPerTokenPerLayer) * 4; // 872,960
        var attentionBytes = KvBytesPerTokenPerLayer * (8 + 8) * 4;               // read 8, write 8: 16,384
        var headBytes = 256.0 * 64 * 4 + 256 * 4;                                 // weights + fp32 logits: 66,560
        Assert.Equal(linearFlops + attentionFlops + headFlops, cost.Flops, 6);
        Assert.Equal(linearBytes + attentionBytes + headBytes, cost.Bytes, 6);
        // At 1 TFLOP/s and 100 GB/s every group of this tiny step is memory-bound.
        var expected = linearBytes / 1e11 + attentionBytes / 1e11 + headBytes / 1e11;
        Assert.Equal(expected, cost.TotalSeconds, 12);
        Assert.Equal(0, cost.CommunicationSeconds);
    }

    [Fact]
    public void Decode_attention_reads_every_context_token_of_every_request()
    {
        var model = new RooflineModel(TestDeployments.TinyOnRound(), RooflineCalibration.Ideal);

        var cost = model.Cost(BatchShape.Decode(requests: 2, contextTokens: 10));

        var flops = 2.0 * 2 * ParametersPerBlock * 4 + 4.0 * 64 * 20 * 4 + 2.0 * 2 * 256 * 64;
        var bytes = (ParametersPerBlock * 4 + 2 * ActivationBytesPerTokenPerLayer) * 4
            + KvBytesPerTokenPerLayer * (20 + 2) * 4
            + (256.0 * 64 * 4 + 2 * 256 * 4);
        Assert.Equal(flops, cost.Flops, 6);
        Assert.Equal(bytes, cost.Bytes, 6);
    }

    [Fact]
    public void Compute_bound_prefill_takes_flops_over_peak()
    {
        // 4,096 tokens: 2 x 4096 x 45,312 x 4 = 1.48 GFLOP of projections against 0.8 MB of weights.
        var model = new RooflineModel(TestDeployments.TinyOnRound(), RooflineCalibration.Ideal);
        var batch = BatchShape.Prefill(1, 4096);

        var cost = model.Cost(batch);

        var linearFlops = 2.0 * 4096 * ParametersPerBlock * 4;
        var linearBytes = (ParametersPerBlock * 4 + 4096 * ActivationBytesPerTokenPerLayer) * 4;
        Assert.True(linearFlops / 1e12 > linearBytes / 1e11, "projections must be compute-bound at 4096 tokens");
        Assert.True(cost.RooflineSeconds >= linearFlops / 1e12);
    }

    [Fact]
    public void Tensor_parallelism_splits_work_and_adds_all_reduce_time()
    {
        var single = new RooflineModel(TestDeployments.TinyOnRound(1), RooflineCalibration.Ideal).Cost(BatchShape.Prefill(1, 64));
        var pair = new RooflineModel(TestDeployments.TinyOnRound(2), RooflineCalibration.Ideal).Cost(BatchShape.Prefill(1, 64));

        Assert.Equal(single.Flops / 2, pair.Flops, 6);
        Assert.Equal(single.Bytes / 2, pair.Bytes, 6);
        // Two ring all-reduces per block of 64 x 64 fp32 = 16 KiB: 2 (tp-1)/tp x bytes / 10 GB/s + 2 (tp-1) x 1 µs each.
        var perAllReduce = 2.0 * 1 / 2 * (64 * 64 * 4) / 1e10 + 2.0 * 1 * 1e-6;
        Assert.Equal(2 * 4 * perAllReduce, pair.CommunicationSeconds, 12);
    }

    [Fact]
    public void Overheads_add_a_fixed_and_a_per_sequence_cost()
    {
        var calibration = RooflineCalibration.Ideal with { StepOverheadSeconds = 0.01, SequenceOverheadSeconds = 0.001 };
        var ideal = new RooflineModel(TestDeployments.TinyOnRound(), RooflineCalibration.Ideal);
        var calibrated = new RooflineModel(TestDeployments.TinyOnRound(), calibration);
        var batch = BatchShape.Decode(3, 100);

        Assert.Equal(ideal.StepSeconds(batch) + 0.01 + 3 * 0.001, calibrated.StepSeconds(batch), 12);
    }

    [Fact]
    public void Empty_batch_costs_nothing()
    {
        var model = new RooflineModel(TestDeployments.TinyOnRound(), RooflineCalibration.Default);
        Assert.Equal(0, model.StepSeconds(default));
    }

    [Fact]
    public void Quantized_weights_move_fewer_bytes_but_compute_in_16_bit()
    {
        var fp16 = new RooflineModel(TestDeployments.TinyOnRound(precision: Core.Models.Precision.Fp16), RooflineCalibration.Ideal).Cost(BatchShape.Decode(1, 1));
        var int4 = new RooflineModel(TestDeployments.TinyOnRound(precision: Core.Models.Precision.Int4), RooflineCalibration.Ideal).Cost(BatchShape.Decode(1, 1));

        Assert.Equal(fp16.Flops, int4.Flops, 6);
        Assert.True(int4.Bytes < fp16.Bytes / 2);
        Assert.Equal(fp16.Flops / 4e12, fp16.ComputeSeconds, 15);
    }

    [Fact]
    public void Step_time_never_decreases_with_more_tokens_or_longer_context()
    {
        var model = new RooflineModel(TestDeployments.Catalog("llama-2-70b", "a100-80gb", 8), RooflineCalibration.Default);
        Prop.ForAll(
            Gen.Choose(1, 64).ToArbitrary(),
            Gen.Choose(1, 8000).ToArbitrary(),
            Gen.Choose(1, 500).ToArbitrary(),
            (batch, context, extra) =>
                model.StepSeconds(BatchShape.Decode(batch, context)) <= model.StepSeconds(BatchShape.Decode(batch, context + extra))
                && model.StepSeconds(BatchShape.Decode(batch, context)) <= model.StepSeconds(BatchShape.Decode(batch + 1, context))
                && model.StepSeconds(BatchShape.Prefill(1, context)) <= model.StepSeconds(BatchShape.Prefill(1, context + extra)))
            .QuickCheckThrowOnFailure();
    }
}
