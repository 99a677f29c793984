using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Strata.Runtime.Kernels;

/// <summary>
/// Every fp16 value as a float, 256 KiB (as ggml's <c>ggml_table_f32_f16</c>): the block kernels read their fp16
/// scales through it instead of converting with <see cref="Half"/> inside the loops. Exact: the same floats the
/// conversion gives.
/// </summary>
internal static class HalfTable
{
    private static readonly float[] Values = Build();

    /// <summary>The little-endian fp16 value at <paramref name="at"/>, as a float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Single(ref byte at) => Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Values), Unsafe.ReadUnaligned<ushort>(ref at));

    /// <summary>The fp16 value with bits <paramref name="bits"/>, as a float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Single(ushort bits) => Values[bits];

    private static float[] Build()
    {
        var table = new float[1 << 16];
        for (var bits = 0; bits < table.Length; bits++)
        {
            table[bits] = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
        }

        return table;
    }
}
