using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Strata.Runtime.Kernels;

/// <summary>Which code path a kernel runs; every path gives the same bits, only the speed differs.</summary>
internal enum KernelIsa
{
    /// <summary>Plain scalar loops: the reference.</summary>
    Scalar,

    /// <summary>256-bit vectors (AVX2 for the integer kernels).</summary>
    Vector256,

    /// <summary>512-bit vectors (AVX-512 BW for the integer kernels; the Q8_0/Q4_0 kernel runs its AVX2 code).</summary>
    Vector512,

    /// <summary>256-bit AVX-VNNI (<c>vpdpbusd</c>) for the Q8_0/Q4_0 kernel; the Q4_K kernel runs its AVX2 code.</summary>
    Vnni256,
}

/// <summary>The paths this machine runs.</summary>
internal static class KernelIsas
{
    /// <summary>The fastest path for fp32 panels (.NET emulates vectors where the hardware lacks them: same bits).</summary>
    public static KernelIsa FloatDefault { get; } = Vector512.IsHardwareAccelerated ? KernelIsa.Vector512 : KernelIsa.Vector256;

    /// <summary>The fastest path for the integer block kernels, which use x86 instructions directly.</summary>
    public static KernelIsa IntegerDefault { get; } =
        Avx512BW.IsSupported && Vector512.IsHardwareAccelerated ? KernelIsa.Vector512 : Avx2.IsSupported ? KernelIsa.Vector256 : KernelIsa.Scalar;

    /// <summary>The fastest path for the Q8_0/Q4_0 kernel: AVX-VNNI where the machine has it (.NET exposes no 512-bit VNNI).</summary>
    public static KernelIsa QuantizedDefault { get; } = AvxVnni.IsSupported ? KernelIsa.Vnni256 : IntegerDefault;

    /// <summary>Whether the integer kernels can run <paramref name="isa"/> here.</summary>
    public static bool IntegerSupports(KernelIsa isa) => isa switch
    {
        KernelIsa.Vector512 => Avx512BW.IsSupported,
        KernelIsa.Vector256 => Avx2.IsSupported,
        KernelIsa.Vnni256 => AvxVnni.IsSupported,
        _ => true,
    };

    /// <summary>Throws unless the input's inner dimension is the weight's and this machine runs <paramref name="isa"/>'s integer instructions.</summary>
    public static void CheckIntegerProduct(int inputInner, int weightInner, KernelIsa isa)
    {
        if (inputInner != weightInner)
        {
            ThrowHelper.ThrowShape("input", inputInner, weightInner);
        }

        if (!IntegerSupports(isa))
        {
            throw new PlatformNotSupportedException($"This machine has no {isa} integer instructions.");
        }
    }
}
