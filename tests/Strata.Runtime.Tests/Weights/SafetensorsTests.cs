using Strata.Core;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Tests.Weights;

public sealed class SafetensorsTests
{
    private static string TempFile() => Path.Combine(TestModels.NewDirectory(), "t.safetensors");

    [Theory]
    [InlineData(TensorDtype.F32)]
    [InlineData(TensorDtype.F16)]
    [InlineData(TensorDtype.BF16)]
    public void Round_trip_is_bit_exact_for_representable_values(TensorDtype dtype)
    {
        // Values every dtype represents exactly: small integers, powers of two, halves, signed zero, infinities.
        float[] values = [0f, -0f, 1f, -1f, 0.5f, -2f, 3f, 96f, 0.375f, 1024f, float.PositiveInfinity, float.NegativeInfinity];
        var random = TestData.Random(6 * 7, 9, 100f);
        if (dtype == TensorDtype.BF16)
        {
            random = [.. random.Select(v => BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(v) & 0xFFFF0000))];
        }
        else if (dtype == TensorDtype.F16)
        {
            random = [.. random.Select(v => (float)(Half)v)];
        }

        var path = TempFile();
        SafetensorsWriter.Write(path, [new("a", dtype, [3, 4], values), new("b.weight", dtype, [6, 7], random), new("empty", dtype, [0], [])],
            new Dictionary<string, string> { ["format"] = "pt" });
        using var reader = SafetensorsReader.Open(path);
        Assert.Equal(["a", "b.weight", "empty"], reader.Tensors.Keys.Order());
        Assert.Equal([3L, 4L], reader.Info("a").Shape);
        Assert.Equal(dtype, reader.Info("a").Dtype);
        Assert.Equal("pt", reader.Metadata["format"]);
        Assert.Equal(values.Select(BitConverter.SingleToUInt32Bits), reader.ReadFloat32("a").Select(BitConverter.SingleToUInt32Bits));
        Assert.Equal(random.Select(BitConverter.SingleToUInt32Bits), reader.ReadFloat32("b.weight").Select(BitConverter.SingleToUInt32Bits));
        Assert.Empty(reader.ReadFloat32("empty"));
    }

    [Theory]
    [InlineData(TensorDtype.F32)]
    [InlineData(TensorDtype.BF16)]
    public void A_range_read_equals_the_same_slice_of_a_whole_read(TensorDtype dtype)
    {
        var path = TempFile();
        SafetensorsWriter.Write(path, [new("w", dtype, [130, 9], TestData.Random(130 * 9, 4))]);
        using var reader = SafetensorsReader.Open(path);
        var whole = reader.ReadFloat32("w");
        var info = reader.Info("w");
        foreach (var (first, count) in new[] { (0, 9), (64 * 9, 64 * 9), (129 * 9, 9), (5, 0) })
        {
            var part = new float[count];
            reader.Read(info, first, part);
            Assert.Equal(whole.AsSpan(first, count).ToArray(), part);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => reader.Read(info, 129 * 9 + 1, new float[9]));
    }

    [Fact]
    public void Bfloat16_rounds_to_nearest_even_and_keeps_nan()
    {
        Assert.Equal(0x3F80, TensorDtypes.ToBFloat16Bits(1f));
        Assert.Equal(0x3F80, TensorDtypes.ToBFloat16Bits(BitConverter.UInt32BitsToSingle(0x3F808000))); // tie, even stays
        Assert.Equal(0x3F82, TensorDtypes.ToBFloat16Bits(BitConverter.UInt32BitsToSingle(0x3F818000))); // tie, odd rounds up
        Assert.Equal(0x3F81, TensorDtypes.ToBFloat16Bits(BitConverter.UInt32BitsToSingle(0x3F808001)));
        Assert.True(float.IsNaN(BitConverter.UInt32BitsToSingle((uint)TensorDtypes.ToBFloat16Bits(float.NaN) << 16)));
    }

    [Fact]
    public void Header_is_padded_so_data_starts_8_byte_aligned()
    {
        var path = TempFile();
        SafetensorsWriter.Write(path, [new("x", TensorDtype.F32, [1], [1f])]);
        var bytes = File.ReadAllBytes(path);
        var headerLength = BitConverter.ToUInt64(bytes, 0);
        Assert.Equal(0UL, headerLength % 8);
        Assert.Equal(8 + (long)headerLength + 4, bytes.Length);
    }

    [Theory]
    [InlineData("{\"x\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "dtype 'I64'")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "truncated")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0, "non-negative")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 8, "start <= end")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlap")]
    [InlineData("{not json", 0, "not valid JSON")]
    [InlineData("[1,2]", 0, "expected a JSON object")]
    public void Malformed_files_fail_with_one_clear_sentence(string header, int dataBytes, string expected)
    {
        var path = TempFile();
        SafetensorsWriter.WriteRaw(path, header, new byte[dataBytes]);
        var error = Assert.Throws<StrataException>(() => SafetensorsReader.Open(path));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_length_beyond_the_file_is_reported_as_truncation()
    {
        var path = TempFile();
        File.WriteAllBytes(path, [0xFF, 0, 0, 0, 0, 0, 0, 0, (byte)'{']);
        var error = Assert.Throws<StrataException>(() => SafetensorsReader.Open(path));
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        File.WriteAllBytes(path, [1, 2]);
        Assert.Contains("8-byte header length", Assert.Throws<StrataException>(() => SafetensorsReader.Open(path)).Message, StringComparison.Ordinal);
    }
}
