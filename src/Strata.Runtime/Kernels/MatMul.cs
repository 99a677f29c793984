namespace Strata.Runtime.Kernels;

/// <summary>Dense products against a weight of Hugging Face shape <c>(out, in)</c>: <c>y = x W^T</c>, fp32 panels or ggml blocks.</summary>
/// <remarks>
/// Every output element is one in-order accumulation over the inner index (see <see cref="PanelKernel"/> and
/// <see cref="QuantizedKernel"/>), computed by exactly one thread, so the result is the same bit for bit whatever
/// the thread count, the partition, the vector width, or the number of rows batched together. When a quantized
/// weight takes part the input is quantized to Q8 blocks once per call, as ggml does.
/// </remarks>
public static class MatMul
{
    /// <summary>Below this many multiply-adds a product runs on the calling thread: a fork costs more than it saves.</summary>
    public const long ParallelThresholdMultiplyAdds = 1 << 16;

    /// <summary>Computes <c>output = input W^T</c> on the calling thread.</summary>
    /// <param name="input">Input rows, <c>(rows, weight.Inner)</c>.</param>
    /// <param name="weight">The weight, <c>(columns, inner)</c>.</param>
    /// <param name="output">Output, <c>(rows, weight.Columns)</c>.</param>
    /// <param name="rows">Rows of the input and the output (tokens).</param>
    public static void MultiplyTransposed(ReadOnlySpan<float> input, LinearWeight weight, Span<float> output, int rows) =>
        MultiplyTransposed(input, weight, output, rows, isa: null);

    /// <summary>Computes <c>output = input W^T</c>, split over groups of 64 output columns across threads when the product is large.</summary>
    /// <param name="input">Input rows, <c>(rows, weight.Inner)</c>.</param>
    /// <param name="weight">The weight, <c>(columns, inner)</c>.</param>
    /// <param name="output">Output, <c>(rows, weight.Columns)</c>.</param>
    /// <param name="rows">Rows of the input and the output (tokens).</param>
    public static void MultiplyTransposed(ReadOnlyMemory<float> input, LinearWeight weight, Memory<float> output, int rows) =>
        MultiplyTransposed(input, rows, (weight, output));

    /// <summary>
    /// Several products of one input, <c>output_j = input W_j^T</c>, in one parallel loop (Q, K and V; gate and up):
    /// one fork per group instead of one per matrix. Each element gets the same bits as alone.
    /// </summary>
    /// <param name="input">Input rows, <c>(rows, inner)</c>.</param>
    /// <param name="rows">Rows of the input.</param>
    /// <param name="products">Each product's weight and its output <c>(rows, columns)</c>.</param>
    public static void MultiplyTransposed(ReadOnlyMemory<float> input, int rows, params (LinearWeight Weight, Memory<float> Output)[] products) =>
        MultiplyTransposed(input, rows, Environment.ProcessorCount, products);

    /// <summary>As <see cref="MultiplyTransposed(ReadOnlyMemory{float}, int, ValueTuple{LinearWeight, Memory{float}}[])"/> on at most <paramref name="maxThreads"/> threads (same bits for any count).</summary>
    internal static void MultiplyTransposed(ReadOnlyMemory<float> input, int rows, int maxThreads, params (LinearWeight Weight, Memory<float> Output)[] products)
    {
        ArgumentNullException.ThrowIfNull(products);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxThreads);
        var work = 0L;
        bool quantized = false, quantizedK = false;
        var tasks = new List<(int Product, int Group)>();
        for (var p = 0; p < products.Length; p++)
        {
            var (weight, output) = products[p];
            Check(input.Length, weight, output.Length, rows, nameof(products));
            work += (long)rows * weight.Inner * weight.Columns;
            quantized |= weight is QuantizedMatrix;
            quantizedK |= weight is Q4KMatrix;
            for (var group = 0; group < weight.GroupCount; group++)
            {
                tasks.Add((p, group));
            }
        }

        if (tasks.Count == 0)
        {
            return;
        }

        using var activations = quantized ? Q8Activations.Quantize(input.Span, rows, products[0].Weight.Inner) : null;
        using var activationsK = quantizedK ? Q8KActivations.Quantize(input.Span, rows, products[0].Weight.Inner) : null;
        void Run(int task)
        {
            var (p, group) = tasks[task];
            var (weight, output) = products[p];
            weight.MultiplyGroup(new MatMulInput(input.Span, activations, activationsK), output.Span, rows, group, DefaultIsa(weight));
        }

        if (work < ParallelThresholdMultiplyAdds || tasks.Count < 2 || Environment.ProcessorCount < 2 || maxThreads < 2)
        {
            for (var task = 0; task < tasks.Count; task++)
            {
                Run(task);
            }

            return;
        }

        Parallel.For(0, tasks.Count, new ParallelOptions { MaxDegreeOfParallelism = maxThreads }, Run);
    }

    /// <summary>The sequential product with the fp32 vector width chosen (tests compare the widths bit for bit).</summary>
    internal static void MultiplyTransposed(ReadOnlySpan<float> input, PackedMatrix weight, Span<float> output, int rows, bool vector512) =>
        MultiplyTransposed(input, weight, output, rows, vector512 ? KernelIsa.Vector512 : KernelIsa.Vector256);

    /// <summary>The sequential product on the path <paramref name="isa"/>, or the weight's default path when null.</summary>
    internal static void MultiplyTransposed(ReadOnlySpan<float> input, LinearWeight weight, Span<float> output, int rows, KernelIsa? isa)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        Check(input.Length, weight, output.Length, rows, nameof(weight));
        using var activations = weight is QuantizedMatrix ? Q8Activations.Quantize(input, rows, weight.Inner) : null;
        using var activationsK = weight is Q4KMatrix ? Q8KActivations.Quantize(input, rows, weight.Inner) : null;
        var path = isa ?? DefaultIsa(weight);
        for (var group = 0; group < weight.GroupCount; group++)
        {
            weight.MultiplyGroup(new MatMulInput(input, activations, activationsK), output, rows, group, path);
        }
    }

    private static KernelIsa DefaultIsa(LinearWeight weight) => weight switch
    {
        QuantizedMatrix => KernelIsas.QuantizedDefault,
        Q4KMatrix => KernelIsas.IntegerDefault,
        _ => KernelIsas.FloatDefault,
    };

    // In 64 bits: a product that wrapped around in 32 would let the unchecked loads and stores of the kernel run past the buffers.
    private static void Check(int inputLength, LinearWeight weight, int outputLength, int rows, string name)
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
