using Strata.Core;
using Strata.Performance.Profiles;

namespace Strata.Performance.Tests.Profiles;

public sealed class MeasuredProfileModelTests
{
    private static readonly MeasuredProfileModel A100 = new(TestDeployments.Catalog("llama-2-70b", "a100-80gb", 8), ProfileTable.BuiltIn);

    [Fact]
    public void Reproduces_the_median_of_a_measured_configuration()
    {
        // 256 prompt tokens were measured only as one prompt of 256 (no other batch has 256 tokens in all).
        var rows = ProfileTable.BuiltIn.RowsFor(new ProfileKey("llama2-70b", "a100-80gb", 8))
            .Where(row => row.PromptTokens == 256 && row.BatchSize == 1)
            .Select(row => row.PromptSeconds)
            .Order()
            .ToArray();

        Assert.Equal(5, rows.Length);
        Assert.Equal(rows[2], A100.StepSeconds(BatchShape.Prefill(1, 256)), 12);
    }

    [Fact]
    public void Decode_cost_grows_with_context_length()
    {
        var short_ = A100.StepSeconds(BatchShape.Decode(1, 200));
        var long_ = A100.StepSeconds(BatchShape.Decode(1, 8000));
        Assert.True(long_ > short_, $"decode at 8000 tokens ({long_}) should cost more than at 200 ({short_})");
    }

    [Fact]
    public void Decode_cost_grows_with_batch_size()
    {
        Assert.True(A100.StepSeconds(BatchShape.Decode(64, 576)) > A100.StepSeconds(BatchShape.Decode(1, 576)));
    }

    [Fact]
    public void Matches_splitwise_table_iv_within_a_fifth()
    {
        // Table IV (P50, Llama-2-70B, no batching): coding TTFT 185 ms (A100) / 95 ms (H100), conversation 155 / 84 ms.
        var h100 = new MeasuredProfileModel(TestDeployments.Catalog("llama-2-70b", "h100-80gb", 8), ProfileTable.BuiltIn);
        Assert.InRange(A100.StepSeconds(BatchShape.Prefill(1, 1469)), 0.185 * 0.8, 0.185 * 1.2);
        Assert.InRange(h100.StepSeconds(BatchShape.Prefill(1, 1469)), 0.095 * 0.8, 0.095 * 1.2);
        Assert.InRange(A100.StepSeconds(BatchShape.Prefill(1, 1020)), 0.155 * 0.8, 0.155 * 1.2);
        Assert.InRange(h100.StepSeconds(BatchShape.Prefill(1, 1020)), 0.084 * 0.8, 0.084 * 1.2);
    }

    [Fact]
    public void An_unmeasured_deployment_is_a_clear_error_listing_the_measured_ones()
    {
        var error = Assert.Throws<StrataException>(() => new MeasuredProfileModel(TestDeployments.Catalog("llama-2-7b", "l4", 1), ProfileTable.BuiltIn));
        Assert.Contains("llama-2-7b", error.Message);
        Assert.Contains("llama2-70b/a100-80gb/tp8", error.Message);
    }

    [Fact]
    public void Screening_drops_the_impossible_tensor_parallel_2_batch_64_prefills()
    {
        var (kept, excluded) = ProfileScreening.Screen(ProfileTable.BuiltIn.Rows);

        Assert.Equal(3, excluded.Count);
        Assert.All(excluded, reason => Assert.Contains("tp2 prompt 512 x batch 64", reason));
        Assert.Equal(ProfileTable.BuiltIn.Rows.Count - 15, kept.Count);
    }
}
