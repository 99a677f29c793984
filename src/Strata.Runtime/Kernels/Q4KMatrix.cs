namespace Strata.Runtime.Kernels;

/// <summary>
/// A weight matrix of a linear layer, <c>(columns, inner)</c>, held in ggml's <c>block_q4_K</c> super-blocks
/// (<see cref="Q4KBlocks"/>): row-major, each row <c>inner / 256</c> super-blocks, so the bytes are a GGUF tensor's bytes.
/// </summary>
/// <remarks>
/// Products read the super-blocks directly (<see cref="Q4KKernel"/>) against inputs quantized to Q8_K blocks, as
/// llama.cpp's <c>vec_dot_q4_K_q8_K</c> does.
/// </remarks>
public sealed class Q4KMatrix : BlockRowMatrix
{
    private Q4KMatrix(int columns, int inner)
        : base(columns, inner, Q4KBlocks.SuperBlockValues, Q4KBlocks.BlockBytes, "q4_k")
    {
    }

    /// <summary>Quantizes a row-major <c>(columns, inner)</c> fp32 weight with ggml's reference quantizer.</summary>
    public static Q4KMatrix Quantize(ReadOnlySpan<float> rowMajor, int columns, int inner)
    {
        CheckValues(rowMajor.Length, columns, inner);
        var matrix = new Q4KMatrix(columns, inner);
        matrix.QuantizeRows(rowMajor, Q4KBlocks.QuantizeRow);
        return matrix;
    }

    /// <summary>Builds a matrix from super-blocks read in pieces: <paramref name="readRows"/> fills a buffer with the blocks of weight rows <c>[first, first + count)</c>.</summary>
    /// <param name="columns">Output columns.</param>
    /// <param name="inner">Shared dimension (a multiple of 256).</param>
    /// <param name="readRows">Called with the first row, the row count and a buffer of <c>count * RowBytes</c> bytes, in order.</param>
    public static Q4KMatrix FromBlocks(int columns, int inner, Action<int, int, Span<byte>> readRows)
    {
        ArgumentNullException.ThrowIfNull(readRows);
        var matrix = new Q4KMatrix(columns, inner);
        matrix.ReadRows(readRows);
        return matrix;
    }

    /// <inheritdoc/>
    internal override void MultiplyGroup(in MatMulInput input, Span<float> output, int rows, int group, KernelIsa isa)
    {
        var activations = input.QuantizedK ?? throw new InvalidOperationException("A q4_k product needs its input quantized to Q8_K blocks.");
        Q4KKernel.MultiplyGroup(this, activations, output, rows, group, isa);
    }

    /// <inheritdoc/>
    private protected override void Dequantize(ReadOnlySpan<byte> blocks, Span<float> destination) => Q4KBlocks.DequantizeRow(blocks, destination);
}
