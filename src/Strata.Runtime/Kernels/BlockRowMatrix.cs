using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Strata.Runtime.Kernels;

/// <summary>
/// A weight matrix of a linear layer, <c>(columns, inner)</c>, held as rows of ggml blocks: row-major, each row
/// <c>inner / BlockValues</c> blocks in ggml's exact layout, so the bytes are a GGUF tensor's bytes. The storage is
/// pinned so the kernels' vector loads never see it move.
/// </summary>
/// <remarks>What differs between formats is the block (<see cref="QuantizedMatrix"/>: Q8_0 and Q4_0 blocks of 32;
/// <see cref="Q4KMatrix"/>: Q4_K super-blocks of 256) and how one is read back to floats.</remarks>
public abstract class BlockRowMatrix : LinearWeight
{
    private const int RowsPerRead = 256;
    private readonly byte[] _storage;
    private readonly int _blockValues;
    private readonly int _blockBytes;

    /// <summary>Allocates the storage of a <paramref name="columns"/> x <paramref name="inner"/> matrix of <paramref name="formatName"/> blocks.</summary>
    /// <exception cref="ArgumentException"><paramref name="inner"/> is not a whole number of blocks.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The matrix does not fit one array.</exception>
    private protected BlockRowMatrix(int columns, int inner, int blockValues, int blockBytes, string formatName)
        : base(columns, inner)
    {
        if (inner % blockValues != 0)
        {
            throw new ArgumentException($"A {formatName} weight needs an inner dimension that is a multiple of {blockValues}; got {inner}.", nameof(inner));
        }

        _blockValues = blockValues;
        _blockBytes = blockBytes;
        RowBytes = inner / blockValues * blockBytes;
        var length = (long)RowBytes * columns;
        if (length + 64 > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(columns), $"A {columns} x {inner} {formatName} matrix does not fit one array.");
        }

        // 64 bytes of slack: a whole-vector load near the end may read past the last block (never used).
        _storage = GC.AllocateArray<byte>((int)length + 64, pinned: true);
    }

    /// <summary>Bytes of one row of blocks.</summary>
    public int RowBytes { get; }

    /// <inheritdoc/>
    public override long SizeBytes => _storage.Length;

    /// <summary>The blocks, row after row, exactly as a GGUF file stores them.</summary>
    public ReadOnlySpan<byte> Blocks => _storage.AsSpan(0, RowBytes * Columns);

    /// <inheritdoc/>
    public override float this[int column, int k]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(k);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(k, Inner);
            Span<float> block = stackalloc float[_blockValues];
            Dequantize(Row(column).Slice(k / _blockValues * _blockBytes, _blockBytes), block);
            return block[k % _blockValues];
        }
    }

    /// <inheritdoc/>
    public override void CopyRow(int column, Span<float> destination)
    {
        ThrowHelper.CheckLength(destination.Length, Inner, nameof(destination));
        Dequantize(Row(column), destination[..Inner]);
    }

    /// <summary>The blocks of weight row <paramref name="column"/>.</summary>
    public ReadOnlySpan<byte> Row(int column)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(column);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(column, Columns);
        return _storage.AsSpan(column * RowBytes, RowBytes);
    }

    /// <summary>A reference to the first byte of weight row <paramref name="column"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref byte RowReference(int column) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_storage), column * RowBytes);

    /// <summary>Reads blocks back to floats: <paramref name="blocks"/> holds whole blocks, <paramref name="destination"/> their values.</summary>
    private protected abstract void Dequantize(ReadOnlySpan<byte> blocks, Span<float> destination);

    /// <summary>Quantizes every row of a row-major <c>(columns, inner)</c> fp32 weight into this matrix with <paramref name="quantizeRow"/> (values, the row's blocks).</summary>
    /// <remarks>The caller checks the length first (<see cref="CheckValues"/>), before the storage is allocated.</remarks>
    private protected void QuantizeRows(ReadOnlySpan<float> rowMajor, QuantizeRow quantizeRow)
    {
        for (var column = 0; column < Columns; column++)
        {
            quantizeRow(rowMajor.Slice(column * Inner, Inner), _storage.AsSpan(column * RowBytes, RowBytes));
        }
    }

    /// <summary>Throws unless <paramref name="length"/> values are a <paramref name="columns"/> x <paramref name="inner"/> weight.</summary>
    private protected static void CheckValues(int length, int columns, int inner)
    {
        if (length != (long)columns * inner)
        {
            throw new ArgumentException($"A {columns} x {inner} weight needs {(long)columns * inner} values; got {length}.", "rowMajor");
        }
    }

    /// <summary>Fills the matrix from blocks read in pieces: <paramref name="readRows"/> fills a buffer with the blocks of weight rows <c>[first, first + count)</c>, in order.</summary>
    private protected void ReadRows(Action<int, int, Span<byte>> readRows)
    {
        ArgumentNullException.ThrowIfNull(readRows);
        for (var first = 0; first < Columns; first += RowsPerRead)
        {
            var count = Math.Min(RowsPerRead, Columns - first);
            readRows(first, count, _storage.AsSpan(first * RowBytes, count * RowBytes));
        }
    }

    /// <summary>Quantizes one row's values into its blocks.</summary>
    private protected delegate void QuantizeRow(ReadOnlySpan<float> values, Span<byte> blocks);
}
