using System.Numerics.Tensors;

namespace Strata.Runtime.Kernels;

/// <summary>Dense products against a weight stored the Hugging Face way, <c>(out, in)</c> row-major: <c>y = x W^T</c>.</summary>
/// <remarks>
/// Every output element is one <see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/> of an
/// input row and a weight row, computed by exactly one thread, so the result is the same bit for bit
/// whatever the thread count or partition.
/// </remarks>
public static class MatMul
{
    /// <summary>Below this many multiply-adds a product runs on the calling thread: a fork costs more than it saves.</summary>
    public const long ParallelThresholdMultiplyAdds = 1 << 16;

    // Columns handed to one task; large enough to amortise scheduling, small enough to balance two to 64 cores.
    private const int ColumnsPerTask = 64;

    /// <summary>Computes columns <c>[firstColumn, firstColumn + columnCount)</c> of <c>output = input W^T</c> on the calling thread.</summary>
    /// <param name="input">Input rows, <c>(rows, inner)</c>.</param>
    /// <param name="weight">Weight, <c>(columns, inner)</c>.</param>
    /// <param name="output">Output, <c>(rows, columns)</c>.</param>
    /// <param name="rows">Rows of the input and the output (tokens).</param>
    /// <param name="inner">Shared dimension.</param>
    /// <param name="columns">Output width (weight rows).</param>
    /// <param name="firstColumn">First output column to compute.</param>
    /// <param name="columnCount">Number of output columns to compute.</param>
    public static void MultiplyTransposed(
        ReadOnlySpan<float> input, ReadOnlySpan<float> weight, Span<float> output,
        int rows, int inner, int columns, int firstColumn, int columnCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(inner);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        ArgumentOutOfRangeException.ThrowIfNegative(firstColumn);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstColumn + columnCount, columns, nameof(columnCount));
        ThrowHelper.CheckLength(input.Length, rows * inner, nameof(input));
        ThrowHelper.CheckLength(weight.Length, columns * inner, nameof(weight));
        ThrowHelper.CheckLength(output.Length, rows * columns, nameof(output));

        // Column-outer: one weight row (inner floats) stays in L1 while every input row meets it.
        for (var column = firstColumn; column < firstColumn + columnCount; column++)
        {
            var weightRow = weight.Slice(column * inner, inner);
            for (var row = 0; row < rows; row++)
            {
                output[row * columns + column] = TensorPrimitives.Dot(input.Slice(row * inner, inner), weightRow);
            }
        }
    }

    /// <summary>Computes <c>output = input W^T</c>, split over output columns across threads when the product is large.</summary>
    /// <param name="input">Input rows, <c>(rows, inner)</c>.</param>
    /// <param name="weight">Weight, <c>(columns, inner)</c>.</param>
    /// <param name="output">Output, <c>(rows, columns)</c>.</param>
    /// <param name="rows">Rows of the input and the output (tokens).</param>
    /// <param name="inner">Shared dimension.</param>
    /// <param name="columns">Output width (weight rows).</param>
    public static void MultiplyTransposed(ReadOnlyMemory<float> input, ReadOnlyMemory<float> weight, Memory<float> output, int rows, int inner, int columns)
    {
        var work = (long)rows * inner * columns;
        var tasks = (columns + ColumnsPerTask - 1) / ColumnsPerTask;
        if (work < ParallelThresholdMultiplyAdds || tasks < 2 || Environment.ProcessorCount < 2)
        {
            MultiplyTransposed(input.Span, weight.Span, output.Span, rows, inner, columns, 0, columns);
            return;
        }

        ThrowHelper.CheckLength(input.Length, rows * inner, nameof(input));
        ThrowHelper.CheckLength(weight.Length, columns * inner, nameof(weight));
        ThrowHelper.CheckLength(output.Length, rows * columns, nameof(output));
        Parallel.For(0, tasks, task =>
        {
            var first = task * ColumnsPerTask;
            MultiplyTransposed(input.Span, weight.Span, output.Span, rows, inner, columns, first, Math.Min(ColumnsPerTask, columns - first));
        });
    }
}
