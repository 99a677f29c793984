using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Strata.Runtime.Kernels;

/// <summary>
/// A weight matrix of a linear layer, <c>(columns, inner)</c>, held in ggml's <c>block_q4_K</c> super-blocks
/// (<see cref="Q4KBlocks"/>): row-major, each row <c>inner / 256</c> super-blocks, so the bytes are a GGUF tensor's bytes.
/// </summary>
/// <remarks>
/// Products read the super-blocks directly (<see cref="Q4KKernel"/>) against inputs quantized to Q8_K blocks, as
/// llama.cpp's <c>vec_dot_q4_K_q8_K</c> does; the storage is pinned so vector loads never see it move.
/// </remarks>
public sealed class Q4KMatrix : LinearWeight
{
    private readonly byte[] _storage;

    private Q4KMatrix(int columns, int inner)
        : base(columns, inner)
    {
        if (inner % Q4KBlocks.SuperBlockValues != 0)
        {
            throw new ArgumentException($"A q4_k weight needs an inner dimension that is a multiple of {Q4KBlocks.SuperBlockValues}; got {inner}.", nameof(inner));
        }

        RowBytes = (int)Q4KBlocks.RowBytes(inner);
        var length = (long)RowBytes * columns;
        if (length + 64 > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(columns), $"A {columns} x {inner} q4_k matrix does not fit one array.");
        }

        // 64 bytes of slack: a whole-vector load near the end may read past the last block (never used).
        _storage = GC.AllocateArray<byte>((int)length + 64, pinned: true);
    }

    /// <summary>Bytes of one row of super-blocks.</summary>
    public int RowBytes { get; }

    /// <inheritdoc/>
    public override long SizeBytes => _storage.Length;

    /// <summary>The super-blocks, <c>(columns, inner / 256)</c>, exactly as a GGUF file stores them.</summary>
    public ReadOnlySpan<byte> Blocks => _storage.AsSpan(0, RowBytes * Columns);

    /// <inheritdoc/>
    public override float this[int column, int k]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(k);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(k, Inner);
            Span<float> block = stackalloc float[Q4KBlocks.SuperBlockValues];
            Q4KBlocks.DequantizeRow(Row(column).Slice(k / Q4KBlocks.SuperBlockValues * Q4KBlocks.BlockBytes, Q4KBlocks.BlockBytes), block);
            return block[k % Q4KBlocks.SuperBlockValues];
        }
    }

    /// <summary>Quantizes a row-major <c>(columns, inner)</c> fp32 weight with ggml's reference quantizer.</summary>
    public static Q4KMatrix Quantize(ReadOnlySpan<float> rowMajor, int columns, int inner)
    {
        if (rowMajor.Length != (long)columns * inner)
        {
            throw new ArgumentException($"A {columns} x {inner} weight needs {(long)columns * inner} values; got {rowMajor.Length}.", nameof(rowMajor));
        }

        var matrix = new Q4KMatrix(columns, inner);
        for (var column = 0; column < columns; column++)
        {
            Q4KBlocks.QuantizeRow(rowMajor.Slice(column * inner, inner), matrix._storage.AsSpan(column * matrix.RowBytes, matrix.RowBytes));
        }

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
        Q4KBlocks.DequantizeRow(Row(column), destination[..Inner]);
    }

    /// <summary>The super-blocks of weight row <paramref name="column"/>.</summary>
    public ReadOnlySpan<byte> Row(int column)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(column);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(column, Columns);
        return _storage.AsSpan(column * RowBytes, RowBytes);
    }

    /// <inheritdoc/>
    internal override void MultiplyGroup(in MatMulInput input, Span<float> output, int rows, int group, KernelIsa isa)
    {
        var activations = input.QuantizedK ?? throw new InvalidOperationException("A q4_k product needs its input quantized to Q8_K blocks.");
        Q4KKernel.MultiplyGroup(this, activations, output, rows, group, isa);
    }

    /// <summary>A reference to the first byte of weight row <paramref name="column"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref byte RowReference(int column) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_storage), column * RowBytes);
}
