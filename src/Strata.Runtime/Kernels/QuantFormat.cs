namespace Strata.Runtime.Kernels;

/// <summary>A ggml block-quantized weight format: 32 values per block, one fp16 scale per block.</summary>
public enum QuantFormat
{
    /// <summary><c>block_q8_0</c>: fp16 scale <c>d</c>, then 32 signed bytes; value = <c>d * q</c> (34 bytes, 8.5 bits per weight).</summary>
    Q8_0,

    /// <summary><c>block_q4_0</c>: fp16 scale <c>d</c>, then 16 bytes of nibbles (value <c>j</c> low, <c>j + 16</c> high); value = <c>d * (nibble - 8)</c> (18 bytes, 4.5 bits per weight).</summary>
    Q4_0,
}

/// <summary>Sizes of the <see cref="QuantFormat"/> blocks.</summary>
public static class QuantFormats
{
    /// <summary>Values per block in every format here (ggml's <c>QK8_0</c> and <c>QK4_0</c>).</summary>
    public const int BlockValues = 32;

    /// <summary>Bytes of one block of <paramref name="format"/>.</summary>
    public static int BlockBytes(this QuantFormat format) => format switch
    {
        QuantFormat.Q8_0 => 2 + BlockValues,
        QuantFormat.Q4_0 => 2 + (BlockValues / 2),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown quantization format."),
    };

    /// <summary>Bytes of the quants of one block of <paramref name="format"/> (the block without its fp16 scale).</summary>
    public static int QuantBytes(this QuantFormat format) => format.BlockBytes() - sizeof(ushort);

    /// <summary>Bytes of one row of <paramref name="inner"/> values (a multiple of <see cref="BlockValues"/>).</summary>
    public static long RowBytes(this QuantFormat format, int inner) => (long)(inner / BlockValues) * format.BlockBytes();

    /// <summary>The lower-case name used on the command line and in file names: <c>q8_0</c>, <c>q4_0</c>.</summary>
    public static string Name(this QuantFormat format) => format.ToString().ToLowerInvariant();
}
