using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Strata.Runtime.Kernels;

/// <summary>
/// A weight matrix of a linear layer, <c>(columns, inner)</c> in the Hugging Face <c>(out, in)</c> sense, stored in panels
/// for <see cref="MatMul"/>: each panel holds <see cref="PanelWidth"/> output columns, and for every inner index their
/// weights side by side, so a product streams each panel front to back and one vector load gives one inner index
/// of <see cref="PanelWidth"/> columns.
/// </summary>
/// <remarks>
/// Panels come in groups of <see cref="PanelsPerGroup"/> (one task of a parallel product); columns past
/// <see cref="LinearWeight.Columns"/> are zero and never written out. The storage starts on a 64-byte boundary in memory that
/// the garbage collector does not move, so no vector load of a panel straddles two cache lines.
/// </remarks>
public sealed class PackedMatrix : LinearWeight
{
    /// <summary>Output columns per panel: one 512-bit vector, one cache line.</summary>
    public const int PanelWidth = 16;

    /// <summary>Panels per group; the panel count is always a multiple of it.</summary>
    public const int PanelsPerGroup = 4;

    private const int AlignmentFloats = 64 / sizeof(float);

    private readonly float[] _storage;
    private readonly int _offset;

    private PackedMatrix(int columns, int inner)
        : base(columns, inner)
    {
        var groups = (columns + (PanelWidth * PanelsPerGroup) - 1) / (PanelWidth * PanelsPerGroup);
        PanelCount = groups * PanelsPerGroup;
        var length = (long)PanelCount * inner * PanelWidth;
        if (length + AlignmentFloats > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(columns), $"A {columns} x {inner} matrix does not fit one array.");
        }

        _storage = GC.AllocateArray<float>((int)length + AlignmentFloats, pinned: true);
        _offset = AlignedOffset(_storage);
    }

    /// <summary>Panels, padding included: a multiple of <see cref="PanelsPerGroup"/>.</summary>
    public int PanelCount { get; }

    /// <summary>Bytes of the packed storage, padding included.</summary>
    public override long SizeBytes => (long)_storage.Length * sizeof(float);

    /// <summary>Weight of output column <paramref name="column"/> at inner index <paramref name="k"/>: <c>W[column, k]</c>.</summary>
    public override float this[int column, int k]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(column);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(column, Columns);
            ArgumentOutOfRangeException.ThrowIfNegative(k);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(k, Inner);
            return _storage[_offset + Index(column, k)];
        }
    }

    /// <summary>Packs a row-major <c>(columns, inner)</c> weight.</summary>
    /// <exception cref="ArgumentException"><paramref name="rowMajor"/> does not hold <c>columns * inner</c> values.</exception>
    public static PackedMatrix Pack(ReadOnlySpan<float> rowMajor, int columns, int inner)
    {
        if (rowMajor.Length != (long)columns * inner)
        {
            throw new ArgumentException($"A {columns} x {inner} weight needs {(long)columns * inner} values; got {rowMajor.Length}.", nameof(rowMajor));
        }

        var matrix = new PackedMatrix(columns, inner);
        matrix.SetRows(0, rowMajor);
        return matrix;
    }

    /// <summary>Packs a <c>(columns, inner)</c> weight read in pieces: <paramref name="readRows"/> fills a buffer with weight rows <c>[first, first + count)</c>, row-major.</summary>
    /// <param name="columns">Output columns.</param>
    /// <param name="inner">Shared dimension.</param>
    /// <param name="readRows">Called with the first row, the row count and a buffer of <c>count * inner</c> floats, in order, a panel group at a time.</param>
    public static PackedMatrix Pack(int columns, int inner, Action<int, int, Span<float>> readRows)
    {
        ArgumentNullException.ThrowIfNull(readRows);
        var matrix = new PackedMatrix(columns, inner);
        const int RowsPerRead = PanelWidth * PanelsPerGroup;
        var buffer = new float[Math.Min(columns, RowsPerRead) * inner];
        for (var first = 0; first < columns; first += RowsPerRead)
        {
            var count = Math.Min(RowsPerRead, columns - first);
            var rows = buffer.AsSpan(0, count * inner);
            readRows(first, count, rows);
            matrix.SetRows(first, rows);
        }

        return matrix;
    }

    /// <summary>Copies weight row <paramref name="column"/> (all its inner values) into <paramref name="destination"/>: an embedding lookup on a tied head.</summary>
    public override void CopyRow(int column, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(column);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(column, Columns);
        ThrowHelper.CheckLength(destination.Length, Inner, nameof(destination));
        ReadOnlySpan<float> data = Data;
        var index = Index(column, 0);
        for (var k = 0; k < Inner; k++, index += PanelWidth)
        {
            destination[k] = data[index];
        }
    }

    /// <inheritdoc/>
    internal override void MultiplyGroup(in MatMulInput input, Span<float> output, int rows, int group, KernelIsa isa) =>
        PanelKernel.MultiplyGroup(input.Values, this, output, rows, group, isa == KernelIsa.Vector512);

    // Writes weight rows [firstColumn, firstColumn + rows) a panel at a time, writing each panel front to back.
    private void SetRows(int firstColumn, ReadOnlySpan<float> rowMajor)
    {
        var data = Data;
        var count = Inner == 0 ? 0 : rowMajor.Length / Inner;
        for (var row = 0; row < count;)
        {
            var column = firstColumn + row;
            var lane = column % PanelWidth;
            var lanes = Math.Min(PanelWidth - lane, count - row);
            var panel = data.Slice(column / PanelWidth * Inner * PanelWidth, Inner * PanelWidth);
            var source = rowMajor.Slice(row * Inner, lanes * Inner);
            for (var k = 0; k < Inner; k++)
            {
                var target = panel.Slice((k * PanelWidth) + lane, lanes);
                for (var j = 0; j < lanes; j++)
                {
                    target[j] = source[(j * Inner) + k];
                }
            }

            row += lanes;
        }
    }

    /// <summary>The panels, <c>(panels, inner, PanelWidth)</c>, starting on a 64-byte boundary.</summary>
    internal Span<float> Data => _storage.AsSpan(_offset, PanelCount * Inner * PanelWidth);

    /// <summary>A reference to the first weight of panel <paramref name="panel"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref float Panel(int panel) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_storage), _offset + (panel * Inner * PanelWidth));

    private static int AlignedOffset(float[] pinned)
    {
        var address = (ulong)Marshal.UnsafeAddrOfPinnedArrayElement(pinned, 0);
        var misalignment = (int)(address % 64) / sizeof(float);
        return (AlignmentFloats - misalignment) % AlignmentFloats;
    }

    private int Index(int column, int k) => (((column / PanelWidth) * Inner) + k) * PanelWidth + (column % PanelWidth);
}
