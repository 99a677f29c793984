using Strata.Core.Models;

namespace Strata.Core.Tests.Models;

public sealed class PrecisionInfoTests
{
    [Theory]
    [InlineData("fp32", Precision.Fp32, 4.0)]
    [InlineData("float16", Precision.Fp16, 2.0)]
    [InlineData("bfloat16", Precision.Bf16, 2.0)]
    [InlineData("int8", Precision.Int8, 1.0)]
    [InlineData("nf4", Precision.Int4, 0.5)]
    [InlineData("INT4", Precision.Int4, 0.5)]
    public void Names_parse_to_precisions_with_their_sizes(string name, Precision expected, double bytes)
    {
        var precision = PrecisionInfo.Parse(name);
        Assert.Equal(expected, precision);
        Assert.Equal(bytes, PrecisionInfo.BytesPerParameter(precision));
    }

    [Fact]
    public void Quantized_weights_compute_in_16_bit()
    {
        Assert.Equal(Precision.Fp16, PrecisionInfo.ComputePrecision(Precision.Int4));
        Assert.Equal(Precision.Fp32, PrecisionInfo.ComputePrecision(Precision.Fp32));
    }

    [Fact]
    public void An_unknown_precision_lists_the_accepted_ones() =>
        Assert.Contains("expected one of fp32, fp16, bf16, int8, int4", Assert.Throws<StrataException>(() => PrecisionInfo.Parse("fp8")).Message);
}
