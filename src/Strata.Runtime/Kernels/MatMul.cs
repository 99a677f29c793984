namespace Strata.Runtime.Kernels;

/// <summary>Dense products against a packed weight of Hugging Face shape <c>(out, in)</c>: <c>y = x W^T</c>.</summary>
/// <remarks>
/// Every output element is one chain of fused multiply-adds over the inner index in order (see
/// <see cref="PanelKernel"/>), computed by exactly one thread, so the result is the same bit for bit whatever the
/// thread count, the partition, the vector width, or the number of rows batched together.
/// </remarks>
public static class MatMul
{
    /// <summary>Below this many multiply-adds a product runs on the calling thread: a fork costs more than it saves.</summary>
    public const long ParallelThresholdMultiplyAdds = 1 << 16;

    /// <summary>Computes <c>output = input W^T</c> on the calling thread.</summary>
    /// <param name="input">Input rows, <c>(rows, weight.Inner)</c>.</param>
    /// <param name="weight">The packed weight, <c>(columns, inner)</c>.</param>
    /// <param name="output">Output, <c>(rows, weight.Columns)</c>.</param>
    /// <param name="rows">Rows of the input and the output (tokens).</param>
    public static void MultiplyTransposed(ReadOnlySpan<float> input, PackedMatrix weight, Span<float> output, int rows) =>
        MultiplyTransposed(input, weight, output, rows, PanelKernel.Vector512ByDefault);

    /// <summary>Computes <c>output = input W^T</c>, split over groups of 64 output columns across threads when the product is large.</summary>
    /// <param name="input">Input rows, <c>(rows, weight.Inner)</c>.</param>
    /// <param name="weight">The packed weight, <c>(columns, inner)</c>.</param>
    /// <param name="output">Output, <c>(rows, weight.Columns)</c>.</param>
    /// <param name="rows">Rows of the input and the output (tokens).</param>
    public static void MultiplyTransposed(ReadOnlyMemory<float> input, PackedMatrix weight, Memory<float> output, int rows) =>
        MultiplyTransposed(input, rows, (weight, output));

    /// <summary>
    /// Several products of one input, <c>output_j = input W_j^T</c>, in one parallel loop (Q, K and V; gate and up):
    /// one fork per group instead of one per matrix. Each element gets the same bits as alone.
    /// </summary>
    /// <param name="input">Input rows, <c>(rows, inner)</c>.</param>
    /// <param name="rows">Rows of the input.</param>
    /// <param name="products">Each product's packed weight and its output <c>(rows, columns)</c>.</param>
    public static void MultiplyTransposed(ReadOnlyMemory<float> input, int rows, params (PackedMatrix Weight, Memory<float> Output)[] products)
    {
        ArgumentNullException.ThrowIfNull(products);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        var work = 0L;
        var tasks = new List<(int Product, int Group)>();
        for (var p = 0; p < products.Length; p++)
        {
            var (weight, output) = products[p];
            Check(input.Length, weight, output.Length, rows, nameof(products));
            work += (long)rows * weight.Inner * weight.Columns;
            for (var group = 0; group < weight.PanelCount / PackedMatrix.PanelsPerGroup; group++)
            {
                tasks.Add((p, group));
            }
        }

        var vector512 = PanelKernel.Vector512ByDefault;
        void Run(int task)
        {
            var (p, group) = tasks[task];
            var (weight, output) = products[p];
            PanelKernel.MultiplyGroup(input.Span, weight, output.Span, rows, group, vector512);
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

    /// <summary>The sequential product with the vector width chosen (tests compare the widths bit for bit).</summary>
    internal static void MultiplyTransposed(ReadOnlySpan<float> input, PackedMatrix weight, Span<float> output, int rows, bool vector512)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        Check(input.Length, weight, output.Length, rows, nameof(weight));
        for (var group = 0; group < weight.PanelCount / PackedMatrix.PanelsPerGroup; group++)
        {
            PanelKernel.MultiplyGroup(input, weight, output, rows, group, vector512);
        }
    }

    // In 64 bits: a product that wrapped around in 32 would let the unchecked loads and stores of the kernel run past the buffers.
    private static void Check(int inputLength, PackedMatrix weight, int outputLength, int rows, string name)
    {
        ArgumentNullException.ThrowIfNull(weight, name);
        if (inputLength < (long)rows * weight.Inner)
        {
            ThrowHelper.ThrowShape("input", inputLength, (long)rows * weight.Inner);
        }

        if (outputLength < (long)rows * weight.Columns)
        {
            ThrowHelper.ThrowShape("output", outputLength, (long)rows * weight.Columns);
        }
    }
}
