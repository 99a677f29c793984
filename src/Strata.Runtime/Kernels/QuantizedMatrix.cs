using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Strata.Runtime.Kernels;

/// <summary>
/// A weight matrix of a linear layer, <c>(columns, inner)</c>, of ggml Q8_0 or Q4_0 blocks, held interleaved eight
/// output columns at a time so a product reads one block of eight columns as whole vectors.
/// </summary>
/// <remarks>
/// <para>Layout: tiles of <see cref="TileColumns"/> columns (the last padded with zero weights); in each tile, one panel
/// per block of 32 inner values, in block order. A panel holds the eight columns' fp16 block scales (16 bytes), then
/// their quants in groups of four inner values, column after column within a group: Q8_0 as <c>q + 128</c> (unsigned
/// bytes, eight groups of 32 bytes); Q4_0 as ggml's own nibble bytes (byte <c>j</c> holds value <c>j</c> low and
/// <c>j + 16</c> high), bytes <c>[4g, 4g + 4)</c> of every column in group <c>g</c> (four groups of 32 bytes). One
/// 32-byte load then gives eight columns' four values, the shape of <c>vpdpbusd</c> (see <see cref="QuantizedKernel"/>).
/// Panels take the same bytes as ggml's blocks; the ggml blocks of a row can be read back exactly (<see cref="CopyRowBlocks"/>).</para>
/// <para>Block scales must be finite (a GGUF file with an infinite or NaN scale is refused): the kernels widen them with
/// integer arithmetic that is exact for every finite fp16 value.</para>
/// </remarks>
public sealed class QuantizedMatrix : LinearWeight
{
    /// <summary>Output columns interleaved in one tile.</summary>
    public const int TileColumns = 8;

    /// <summary>Inner values per group of one column in a panel (one lane of <c>vpdpbusd</c>).</summary>
    internal const int GroupValues = 4;

    /// <summary>Bytes of the scales at the start of a panel.</summary>
    internal const int ScaleBytes = TileColumns * sizeof(ushort);

    private const int B = QuantFormats.BlockValues;
    private const int RowsPerRead = 256;

    // Q8_0 codes are stored plus 128: flipping each byte's top bit turns a signed code into that unsigned byte and back.
    private const uint Q8Bias = 0x80808080;
    private readonly byte[] _storage;

    private QuantizedMatrix(QuantFormat format, int columns, int inner)
        : base(columns, inner)
    {
        if (inner % B != 0)
        {
            throw new ArgumentException($"A {format.Name()} weight needs an inner dimension that is a multiple of {B}; got {inner}.", nameof(inner));
        }

        Format = format;
        Blocks = inner / B;
        PanelBytes = ScaleBytes + (TileColumns * format.QuantBytes());
        Tiles = (columns + TileColumns - 1) / TileColumns;
        var length = (long)Tiles * Blocks * PanelBytes;
        if (length + 64 > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(columns), $"A {columns} x {inner} {format.Name()} matrix does not fit one array.");
        }

        // 64 bytes of slack: a whole-vector load near the end may read past the last panel (never used). Pinned so
        // the kernels' vector loads never see it move.
        _storage = GC.AllocateArray<byte>((int)length + 64, pinned: true);
    }

    /// <summary>The block format.</summary>
    public QuantFormat Format { get; }

    /// <inheritdoc/>
    public override long SizeBytes => _storage.Length;

    /// <summary>Blocks per column (<c>inner / 32</c>).</summary>
    internal int Blocks { get; }

    /// <summary>Bytes of one panel: eight columns' scales and quants of one block.</summary>
    internal int PanelBytes { get; }

    /// <summary>Tiles of eight columns (the last may be partly padding).</summary>
    internal int Tiles { get; }

    /// <summary>Bytes of one row of ggml blocks.</summary>
    public int RowBytes => Blocks * Format.BlockBytes();

    /// <inheritdoc/>
    public override float this[int column, int k]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(k);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(k, Inner);
            Span<byte> block = stackalloc byte[Format.BlockBytes()];
            CopyBlock(column, k / B, block);
            Span<float> values = stackalloc float[B];
            BlockQuantizer.DequantizeRow(block, values, Format);
            return values[k % B];
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
        var row = new byte[matrix.RowBytes];
        for (var column = 0; column < columns; column++)
        {
            BlockQuantizer.QuantizeRow(rowMajor.Slice(column * inner, inner), row, format);
            matrix.StoreRow(column, row);
        }

        matrix.PadTail();
        return matrix;
    }

    /// <summary>Builds a matrix from ggml blocks read in pieces: <paramref name="readRows"/> fills a buffer with the blocks of weight rows <c>[first, first + count)</c>, in order.</summary>
    /// <param name="format">The block format.</param>
    /// <param name="columns">Output columns.</param>
    /// <param name="inner">Shared dimension (a multiple of 32).</param>
    /// <param name="readRows">Called with the first row, the row count and a buffer of <c>count * RowBytes</c> bytes, in order.</param>
    /// <exception cref="FormatException">A block scale is infinite or NaN.</exception>
    public static QuantizedMatrix FromBlocks(QuantFormat format, int columns, int inner, Action<int, int, Span<byte>> readRows)
    {
        ArgumentNullException.ThrowIfNull(readRows);
        var matrix = new QuantizedMatrix(format, columns, inner);
        var rowBytes = matrix.RowBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, Math.Min(RowsPerRead, columns) * rowBytes));
        try
        {
            for (var first = 0; first < columns; first += RowsPerRead)
            {
                var count = Math.Min(RowsPerRead, columns - first);
                var rows = buffer.AsSpan(0, count * rowBytes);
                readRows(first, count, rows);
                for (var r = 0; r < count; r++)
                {
                    matrix.StoreRow(first + r, rows.Slice(r * rowBytes, rowBytes));
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        matrix.PadTail();
        return matrix;
    }

    /// <inheritdoc/>
    public override void CopyRow(int column, Span<float> destination)
    {
        ThrowHelper.CheckLength(destination.Length, Inner, nameof(destination));

        // A tied head's embedding lookup runs this once per token: no allocation for rows of ordinary widths.
        const int StackBytes = 4096;
        var rented = RowBytes > StackBytes ? ArrayPool<byte>.Shared.Rent(RowBytes) : null;
        var blocks = rented is null ? stackalloc byte[StackBytes] : rented;
        try
        {
            CopyRowBlocks(column, blocks[..RowBytes]);
            BlockQuantizer.DequantizeRow(blocks[..RowBytes], destination[..Inner], Format);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Writes the ggml blocks of weight row <paramref name="column"/> (exactly the bytes a GGUF file holds) into <paramref name="destination"/>.</summary>
    public void CopyRowBlocks(int column, Span<byte> destination)
    {
        ThrowHelper.CheckLength(destination.Length, RowBytes, nameof(destination));
        var size = Format.BlockBytes();
        for (var b = 0; b < Blocks; b++)
        {
            CopyBlock(column, b, destination.Slice(b * size, size));
        }
    }

    /// <inheritdoc/>
    internal override void MultiplyGroup(in MatMulInput input, Span<float> output, int rows, int group, KernelIsa isa)
    {
        var activations = input.Quantized ?? throw new InvalidOperationException("A quantized product needs its input quantized to Q8 blocks.");
        QuantizedKernel.MultiplyGroup(this, activations, output, rows, group, isa);
    }

    /// <summary>A reference to the first byte of the panel of block <paramref name="block"/> in tile <paramref name="tile"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref byte Panel(int tile, int block) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_storage), (nint)(((long)tile * Blocks) + block) * PanelBytes);

    /// <summary>The panel bytes of block <paramref name="block"/> in tile <paramref name="tile"/>.</summary>
    internal ReadOnlySpan<byte> PanelSpan(int tile, int block) => _storage.AsSpan((int)((((long)tile * Blocks) + block) * PanelBytes), PanelBytes);

    // Scatters one row of ggml blocks into its tile's panels.
    private void StoreRow(int column, ReadOnlySpan<byte> row)
    {
        var size = Format.BlockBytes();
        var tile = column / TileColumns;
        var lane = column % TileColumns;
        for (var b = 0; b < Blocks; b++)
        {
            var block = row.Slice(b * size, size);
            var scale = BinaryPrimitives.ReadUInt16LittleEndian(block);
            if ((scale & 0x7C00) == 0x7C00)
            {
                throw new FormatException($"Block {b} of weight row {column} has a non-finite scale (fp16 bits 0x{scale:X4}).");
            }

            var panel = _storage.AsSpan((int)((((long)tile * Blocks) + b) * PanelBytes), PanelBytes);
            BinaryPrimitives.WriteUInt16LittleEndian(panel[(lane * sizeof(ushort))..], scale);
            var quants = block[2..];
            var bias = Format == QuantFormat.Q8_0 ? Q8Bias : 0u;
            for (var g = 0; g < quants.Length / GroupValues; g++)
            {
                var four = BinaryPrimitives.ReadUInt32LittleEndian(quants[(g * GroupValues)..]) ^ bias;
                BinaryPrimitives.WriteUInt32LittleEndian(panel[(ScaleBytes + (((g * TileColumns) + lane) * GroupValues))..], four);
            }
        }
    }

    // Padding columns of the last tile hold zero weights with a zero scale.
    private void PadTail()
    {
        var zero = Format == QuantFormat.Q8_0 ? (byte)0x80 : (byte)0x88;
        for (var column = Columns; column < Tiles * TileColumns; column++)
        {
            var lane = column % TileColumns;
            for (var b = 0; b < Blocks; b++)
            {
                var panel = _storage.AsSpan((int)(((((long)Tiles - 1) * Blocks) + b) * PanelBytes), PanelBytes);
                BinaryPrimitives.WriteUInt16LittleEndian(panel[(lane * sizeof(ushort))..], 0);
                for (var g = 0; g < Format.QuantBytes() / GroupValues; g++)
                {
                    panel.Slice(ScaleBytes + (((g * TileColumns) + lane) * GroupValues), GroupValues).Fill(zero);
                }
            }
        }
    }

    // Gathers one ggml block back from its panel.
    private void CopyBlock(int column, int block, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(column);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(column, Columns);
        var lane = column % TileColumns;
        var panel = PanelSpan(column / TileColumns, block);
        panel.Slice(lane * sizeof(ushort), sizeof(ushort)).CopyTo(destination);
        var quants = destination[2..];
        var bias = Format == QuantFormat.Q8_0 ? Q8Bias : 0u;
        for (var g = 0; g < quants.Length / GroupValues; g++)
        {
            var four = BinaryPrimitives.ReadUInt32LittleEndian(panel[(ScaleBytes + (((g * TileColumns) + lane) * GroupValues))..]) ^ bias;
            BinaryPrimitives.WriteUInt32LittleEndian(quants[(g * GroupValues)..], four);
        }
    }
}
