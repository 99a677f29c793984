namespace Strata.Runtime.Weights.Gguf;

/// <summary>ggml's tensor element types, by their numbers in <c>ggml.h</c> (the ones a GGUF file names).</summary>
public enum GgmlType : uint
{
    /// <summary>32-bit float.</summary>
    F32 = 0,

    /// <summary>16-bit IEEE float.</summary>
    F16 = 1,

    /// <summary>Blocks of 32: fp16 scale, 16 bytes of nibbles.</summary>
    Q4_0 = 2,

    /// <summary>Blocks of 32: fp16 scale and minimum, 16 bytes of nibbles.</summary>
    Q4_1 = 3,

    /// <summary>Blocks of 32: fp16 scale, 5-bit values.</summary>
    Q5_0 = 6,

    /// <summary>Blocks of 32: fp16 scale and minimum, 5-bit values.</summary>
    Q5_1 = 7,

    /// <summary>Blocks of 32: fp16 scale, 32 signed bytes.</summary>
    Q8_0 = 8,

    /// <summary>Blocks of 32: fp16 scale and sum, 32 signed bytes.</summary>
    Q8_1 = 9,

    /// <summary>K-quant super-blocks of 256, 2 bits.</summary>
    Q2_K = 10,

    /// <summary>K-quant super-blocks of 256, 3 bits.</summary>
    Q3_K = 11,

    /// <summary>K-quant super-blocks of 256, 4 bits.</summary>
    Q4_K = 12,

    /// <summary>K-quant super-blocks of 256, 5 bits.</summary>
    Q5_K = 13,

    /// <summary>K-quant super-blocks of 256, 6 bits.</summary>
    Q6_K = 14,

    /// <summary>K-quant super-blocks of 256, 8 bits.</summary>
    Q8_K = 15,

    /// <summary>bfloat16.</summary>
    BF16 = 30,
}

/// <summary>Sizes of the <see cref="GgmlType"/> blocks (ggml's <c>type_traits</c>).</summary>
public static class GgmlTypes
{
    /// <summary>Values per block and bytes per block of <paramref name="type"/>, or null for a number this code does not know.</summary>
    public static (int Values, int Bytes)? Block(GgmlType type) => type switch
    {
        GgmlType.F32 => (1, 4),
        GgmlType.F16 or GgmlType.BF16 => (1, 2),
        GgmlType.Q4_0 => (32, 18),
        GgmlType.Q4_1 => (32, 20),
        GgmlType.Q5_0 => (32, 22),
        GgmlType.Q5_1 => (32, 24),
        GgmlType.Q8_0 => (32, 34),
        GgmlType.Q8_1 => (32, 36),
        GgmlType.Q2_K => (256, 84),
        GgmlType.Q3_K => (256, 110),
        GgmlType.Q4_K => (256, 144),
        GgmlType.Q5_K => (256, 176),
        GgmlType.Q6_K => (256, 210),
        GgmlType.Q8_K => (256, 292),
        _ => null,
    };

    /// <summary>Bytes of a tensor of <paramref name="type"/> whose innermost dimension is <paramref name="inner"/> and which holds <paramref name="elements"/> values, or null when the inner dimension is not a whole number of blocks.</summary>
    public static long? TensorBytes(GgmlType type, long inner, long elements)
    {
        if (Block(type) is not { } block || inner % block.Values != 0)
        {
            return null;
        }

        return elements / block.Values * block.Bytes;
    }
}
