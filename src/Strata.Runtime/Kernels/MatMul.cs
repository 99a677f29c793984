namespace Strata.Runtime.Kernels;

/// <summary>Dense products against a weight stored the Hugging Face way, <c>(out, in)</c> row-major: <c>y = x W^T</c>.</summary>
/// <remarks>
/// Every output element is the dot product of an input row and a weight row, summed in one fixed order
/// (see <see cref="DotKernel"/>) by exactly one thread, so the result is the same bit for bit whatever the
/// thread count, the partition, or the number of rows batched together.
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

        DotKernel.Multiply(input, weight, output, rows, inner, columns, firstColumn, firstColumn + columnCount);
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

    /// <summary>
    /// Several products of one input, <c>output_j = input W_j^T</c>, in one parallel loop (Q, K and V; gate and up):
    /// one fork per group instead of one per matrix. Each element gets the same bits as alone.
    /// </summary>
    /// <param name="input">Input rows, <c>(rows, inner)</c>.</param>
    /// <param name="rows">Rows of the input.</param>
    /// <param name="inner">Shared dimension.</param>
    /// <param name="products">Each product's weight <c>(columns, inner)</c>, output <c>(rows, columns)</c> and column count.</param>
    public static void MultiplyTransposed(ReadOnlyMemory<float> input, int rows, int inner, params (ReadOnlyMemory<float> Weight, Memory<float> Output, int Columns)[] products)
    {
        ArgumentNullException.ThrowIfNull(products);
        var work = 0L;
        var tasks = new List<(int Product, int FirstColumn)>();
        for (var p = 0; p < products.Length; p++)
        {
            var (weight, output, columns) = products[p];
            ThrowHelper.CheckLength(weight.Length, columns * inner, nameof(products));
            ThrowHelper.CheckLength(output.Length, rows * columns, nameof(products));
            work += (long)rows * inner * columns;
            for (var first = 0; first < columns; first += ColumnsPerTask)
            {
                tasks.Add((p, first));
            }
        }

        ThrowHelper.CheckLength(input.Length, rows * inner, nameof(input));
        void Run(int task)
        {
            var (p, first) = tasks[task];
            var (weight, output, columns) = products[p];
            MultiplyTransposed(input.Span, weight.Span, output.Span, rows, inner, columns, first, Math.Min(ColumnsPerTask, columns - first));
        }

        if (work < ParallelThresholdMultiplyAdds || tasks.Count < 2 || Environment.ProcessorCount < 2)
        {
            for (var task = 0; task < tasks.Count; task++)
            {
                Run(task);
            }

            return;
        }

        Parallel.For(0, tasks.Count, Run);
    }
}
