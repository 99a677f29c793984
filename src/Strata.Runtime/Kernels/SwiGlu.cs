using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Strata.Runtime.Kernels;

/// <summary>The gated activation of Llama's MLP: <c>silu(gate) * up</c>, with <c>silu(x) = x * sigmoid(x)</c>.</summary>
public static class SwiGlu
{
    // Scratch on the stack: 256 floats = 1 KiB.
    private const int ChunkLength = 256;

    /// <summary>Writes <c>silu(gate) * up</c> into <paramref name="output"/>, which may be exactly <paramref name="gate"/> or <paramref name="up"/>.</summary>
    /// <param name="gate">Gate projection, <c>(n)</c>.</param>
    /// <param name="up">Up projection, <c>(n)</c>.</param>
    /// <param name="output">Result, <c>(n)</c>.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> output)
    {
        ThrowHelper.CheckLength(up.Length, gate.Length, nameof(up));
        ThrowHelper.CheckLength(output.Length, gate.Length, nameof(output));
        Span<float> sigmoid = stackalloc float[ChunkLength];
        for (var start = 0; start < gate.Length; start += ChunkLength)
        {
            var length = Math.Min(ChunkLength, gate.Length - start);
            var s = sigmoid[..length];
            TensorPrimitives.Sigmoid(gate.Slice(start, length), s);
            TensorPrimitives.Multiply(s, gate.Slice(start, length), s);
            TensorPrimitives.Multiply(s, up.Slice(start, length), output.Slice(start, length));
        }
    }
}
