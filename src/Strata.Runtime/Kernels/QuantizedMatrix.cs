namespace Strata.Runtime.Kernels;

/// <summary>
/// A weight matrix of a linear layer, <c>(columns, inner)</c>, held in ggml blocks of <see cref="QuantFormat"/>:
/// row-major, each row <c>inner / 32</c> blocks in ggml's exact layout, so the bytes are a GGUF tensor's bytes.
/// </summary>
/// <remarks>
/// Products read the blocks directly (<see cref="QuantizedKernel"/>) against inputs quantized to Q8 blocks.
/// </remarks>
public sealed class QuantizedMatrix : BlockRowMatrix
{
    private QuantizedMatrix(QuantFormat format, int columns, int inner)
        : base(columns, inner, QuantFormats.BlockValues, format.BlockBytes(), format.Name())
    {
        Format = format;
    }

    /// <summary>The block format.</summary>
    public QuantFormat Format { get; }

    /// <summary>Quantizes a row-major <c>(columns, inner)</c> fp32 weight with ggml's reference quantizer.</summary>
    public static QuantizedMatrix Quantize(ReadOnlySpan<float> rowMajor, int columns, int inner, QuantFormat format)
    {
        CheckValues(rowMajor.Length, columns, inner);
        var matrix = new QuantizedMatrix(format, columns, inner);
        matrix.QuantizeRows(rowMajor, (values, blocks) => BlockQuantizer.QuantizeRow(values, blocks, format));
        return matrix;
    }

    /// <summary>Builds a matrix from blocks read in pieces: <paramref name="readRows"/> fills a buffer with the blocks of weight rows <c>[first, first + count)</c>.</summary>
    /// <param name="format">The block format.</param>
    /// <param name="columns">Output columns.</param>
    /// <param name="inner">Shared dimension (a multiple of 32).</param>
    /// <param name="readRows">Called with the first row, the row count and a buffer of <c>count * RowBytes</c> bytes, in order.</param>
    public static QuantizedMatrix FromBlocks(QuantFormat format, int columns, int inner, Action<int, int, Span<byte>> readRows)
    {
        ArgumentNullException.ThrowIfNull(readRows);
        var matrix = new QuantizedMatrix(format, columns, inner);
        matrix.ReadRows(readRows);
        return matrix;
    }

    /// <inheritdoc/>
    internal override void MultiplyGroup(in MatMulInput input, Span<float> output, int rows, int group, KernelIsa isa)
    {
        var activations = input.Quantized ?? throw new InvalidOperationException("A quantized product needs its input quantized to Q8 blocks.");
        QuantizedKernel.MultiplyGroup(this, activations, output, rows, group, isa);
    }

    /// <inheritdoc/>
    private protected override void Dequantize(ReadOnlySpan<byte> blocks, Span<float> destination) => BlockQuantizer.DequantizeRow(blocks, destination, Format);
}
