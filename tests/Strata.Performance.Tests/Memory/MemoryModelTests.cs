using Strata.Core.Models;
using Strata.Performance.Memory;

namespace Strata.Performance.Tests.Memory;

public sealed class MemoryModelTests
{
    [Fact]
    public void Llama_2_70b_kv_cache_follows_its_grouped_query_layout()
    {
        // 80 blocks x K and V x 8 KV heads x 128 wide x 2 bytes: 8x less than 64 full heads would need.
        var memory = new MemoryModel(TestDeployments.Catalog("llama-2-70b", "a100-80gb", 8));

        Assert.Equal(2.0 * 8 * 128 * 2, memory.KvBytesPerTokenPerBlock);
        Assert.Equal(327_680, memory.KvBytesPerToken);
        Assert.Equal(2.0 * 80 * 8192 * 2, 8 * memory.KvBytesPerToken);
    }

    [Fact]
    public void Weights_count_blocks_embedding_and_untied_head()
    {
        var memory = new MemoryModel(TestDeployments.Catalog("llama-2-70b", "a100-80gb", 8));

        // 80 x (2 x 8192^2 + 2 x 8192 x 1024 + 3 x 8192 x 28672) + 2 x 32000 x 8192 weights, 2 bytes each.
        var parameters = 80.0 * (2.0 * 8192 * 8192 + 2.0 * 8192 * 1024 + 3.0 * 8192 * 28672) + 2.0 * 32000 * 8192;
        Assert.Equal(parameters * 2, memory.WeightsBytes);
        Assert.Equal(parameters * 2 / 8, memory.WeightsBytesPerDevice);
        Assert.InRange(parameters, 68.9e9, 69.0e9); // "70B"
    }

    [Fact]
    public void Max_batch_is_the_kv_capacity_over_tokens_per_request()
    {
        var memory = new MemoryModel(TestDeployments.Catalog("llama-2-70b", "a100-80gb", 8), memoryUtilization: 0.9);

        var usable = 8 * 80.0 * (1L << 30) * 0.9;
        var capacity = Math.Floor((usable - memory.WeightsBytes) / 327_680);
        Assert.Equal((long)capacity, memory.KvCapacityTokens);
        Assert.Equal((int)(capacity / 2048), memory.MaxBatch(2048));
        Assert.True(memory.Fits(memory.MaxBatch(2048), 2048));
        Assert.False(memory.Fits(memory.MaxBatch(2048) + 1, 2048));
    }

    [Fact]
    public void A_model_larger_than_memory_fits_no_batch()
    {
        var memory = new MemoryModel(TestDeployments.Catalog("llama-2-70b", "l4", 1));

        Assert.False(memory.WeightsFit);
        Assert.Equal(0, memory.MaxBatch(100));
        Assert.False(memory.Fits(1, 100));
    }

    [Fact]
    public void Four_bit_weights_take_a_quarter_of_fp16()
    {
        var fp16 = new MemoryModel(TestDeployments.Catalog("llama-2-7b", "a100-80gb", 1, Precision.Fp16));
        var int4 = new MemoryModel(TestDeployments.Catalog("llama-2-7b", "a100-80gb", 1, Precision.Int4));

        Assert.Equal(fp16.WeightsBytes / 4, int4.WeightsBytes, 3);
        Assert.Equal(fp16.KvBytesPerToken, int4.KvBytesPerToken);
    }
}
