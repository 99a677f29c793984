using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Strata.Runtime.Kernels;

/// <summary>
/// A weight matrix of a linear layer, <c>(columns, inner)</c>, held in ggml blocks of <see cref="QuantFormat"/>:
/// row-major, each row <c>inner / 32</c> blocks in ggml's exact layout, so the bytes are a GGUF tensor's bytes.
/// </summary>
/// <remarks>
/// Products read the blocks directly (<see cref="QuantizedKernel"/>) against inputs quantized to Q8 blocks; the
/// storage is pinned so vector loads never see it move.
/// </remarks>
public sealed class QuantizedMatrix : LinearWeight
{
    private readonly byte[] _storage;

    private QuantizedMatrix(QuantFormat format, int columns, int inner)
        : base(columns, inner)
    {
        if (inner % QuantFormats.BlockValues != 0)
        {
            throw new ArgumentException($"A {format.Name()} weight needs an inner dimension that is a multiple of {QuantFormats.BlockValues}; got {inner}.", nameof(inner));
        }

        Format = format;
        RowBytes = (int)format.RowBytes(inner);
        var length = (long)RowBytes * columns;
        if (length + 64 > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(columns), $"A {columns} x {inner} {format.Name()} matrix does not fit one array.");
        }

        // 64 bytes of slack: a 512-bit load of the last block's values may read past its end (never used).
        _storage = GC.AllocateArray<byte>((int)length + 64, pinned: true);
    }

    /// <summary>The block format.</summary>
    public QuantFormat Format { get; }

    /// <summary>Bytes of one row of blocks.</summary>
    public int RowBytes { get; }

    /// <inheritdoc/>
    public override long SizeBytes => _storage.Length;

    /// <summary>The blocks, <c>(columns, inner / 32)</c>, exactly as a GGUF file stores them.</summary>
    public ReadOnlySpan<byte> Blocks => _storage.AsSpan(0, RowBytes * Columns);

    /// <inheritdoc/>
    public override float this[int column, int k]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(k);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(k, Inner);
            Span<float> block = stackalloc float[QuantFormats.BlockValues];
            var size = Format.BlockBytes();
            BlockQuantizer.DequantizeRow(Row(column).Slice(k / QuantFormats.BlockValues * size, size), block, Format);
            return block[k % QuantFormats.BlockValues];
        }
    }

    /// <summary>Quantizes a row-major <c>(columns, inner)</c> fp32 weight with ggml's reference quantizer.</summary>
    public static QuantizedMatrix Quantize(ReadOnlySpan<float> rowMajor, int columns, int inner, QuantFormat format)
    {
        if (rowMajor.Length != (long)columns * inner)
        {
            throw new ArgumentException($"A {columns} x {inner} weight needs {(long)columns * inner} values; got {rowMajor.Length}.", nameof(rowMajor));
        }

        var matrix = new QuantizedMatrix(format, columns, inner);
        for (var column = 0; column < columns; column++)
        {
            BlockQuantizer.QuantizeRow(rowMajor.Slice(column * inner, inner), matrix.MutableRow(column), format);
        }

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
        const int RowsPerRead = 256;
        for (var first = 0; first < columns; first += RowsPerRead)
        {
            var count = Math.Min(RowsPerRead, columns - first);
            readRows(first, count, matrix._storage.AsSpan(first * matrix.RowBytes, count * matrix.RowBytes));
        }

        return matrix;
    }

    /// <inheritdoc/>
    public override void CopyRow(int column, Span<float> destination)
    {
        ThrowHelper.CheckLength(destination.Length, Inner, nameof(destination));
        BlockQuantizer.DequantizeRow(Row(column), destination[..Inner], Format);
    }

    /// <summary>The blocks of weight row <paramref name="column"/>.</summary>
    public ReadOnlySpan<byte> Row(int column)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(column);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(column, Columns);
        return _storage.AsSpan(column * RowBytes, RowBytes);
    }

    /// <inheritdoc/>
    internal override void MultiplyGroup(in MatMulInput input, Span<float> output, int rows, int group, KernelIsa isa)
    {
        var activations = input.Quantized ?? throw new InvalidOperationException("A quantized product needs its input quantized to Q8 blocks.");
        QuantizedKernel.MultiplyGroup(this, activations, output, rows, group, isa);
    }

    /// <summary>A reference to the first byte of weight row <paramref name="column"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref byte RowReference(int column) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_storage), column * RowBytes);

    private Span<byte> MutableRow(int column) => _storage.AsSpan(column * RowBytes, RowBytes);
}
