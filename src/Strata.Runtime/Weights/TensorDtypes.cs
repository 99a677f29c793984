using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Strata.Core;

namespace Strata.Runtime.Weights;

/// <summary>Names, sizes and little-endian conversions of <see cref="TensorDtype"/>.</summary>
public static class TensorDtypes
{
    /// <summary>The dtypes accepted on the command line, for messages.</summary>
    public const string AcceptedNames = "f32, f16, bf16";

    /// <summary>Bytes per element.</summary>
    public static int SizeBytes(TensorDtype dtype) => dtype switch
    {
        TensorDtype.F32 => 4,
        TensorDtype.F16 or TensorDtype.BF16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>The name safetensors headers use (<c>F32</c>, <c>F16</c>, <c>BF16</c>).</summary>
    public static string HeaderName(TensorDtype dtype) => dtype switch
    {
        TensorDtype.F32 => "F32",
        TensorDtype.F16 => "F16",
        TensorDtype.BF16 => "BF16",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>Parses a header name; false for dtypes Strata does not read (integers, fp64, fp8).</summary>
    public static bool TryParseHeaderName(string? name, out TensorDtype dtype)
    {
        switch (name)
        {
            case "F32": dtype = TensorDtype.F32; return true;
            case "F16": dtype = TensorDtype.F16; return true;
            case "BF16": dtype = TensorDtype.BF16; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>Parses a user's dtype name (f32, fp32, float32, f16, fp16, bf16), case-insensitively.</summary>
    /// <exception cref="StrataException">The name is not one of them.</exception>
    public static TensorDtype Parse(string name, string origin) => name.ToLowerInvariant() switch
    {
        "f32" or "fp32" or "float32" => TensorDtype.F32,
        "f16" or "fp16" or "float16" => TensorDtype.F16,
        "bf16" or "bfloat16" => TensorDtype.BF16,
        _ => throw new StrataException($"{origin}: dtype '{name}' is not supported; expected one of {AcceptedNames}."),
    };

    /// <summary>Decodes little-endian elements of <paramref name="dtype"/> into floats.</summary>
    /// <param name="source">Raw bytes, <c>(n * size)</c>.</param>
    /// <param name="dtype">Element type of <paramref name="source"/>.</param>
    /// <param name="destination">Floats, <c>(n)</c>.</param>
    public static void ToFloat32(ReadOnlySpan<byte> source, TensorDtype dtype, Span<float> destination)
    {
        var n = source.Length / SizeBytes(dtype);
        if (destination.Length < n)
        {
            throw new ArgumentException($"Destination holds {destination.Length} floats; {n} needed.", nameof(destination));
        }

        switch (dtype)
        {
            case TensorDtype.F32 when BitConverter.IsLittleEndian:
                MemoryMarshal.Cast<byte, float>(source[..(n * 4)]).CopyTo(destination);
                break;
            case TensorDtype.F32:
                for (var i = 0; i < n; i++)
                {
                    destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(i * 4)..]);
                }

                break;
            case TensorDtype.F16 when BitConverter.IsLittleEndian:
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source[..(n * 2)]), destination);
                break;
            case TensorDtype.F16:
                for (var i = 0; i < n; i++)
                {
                    destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(source[(i * 2)..]);
                }

                break;
            case TensorDtype.BF16:
                for (var i = 0; i < n; i++)
                {
                    destination[i] = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(source[(i * 2)..]) << 16);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null);
        }
    }

    /// <summary>Encodes floats as little-endian elements of <paramref name="dtype"/>, rounding to nearest even.</summary>
    /// <param name="source">Floats, <c>(n)</c>.</param>
    /// <param name="dtype">Element type to write.</param>
    /// <param name="destination">Raw bytes, <c>(n * size)</c>.</param>
    public static void FromFloat32(ReadOnlySpan<float> source, TensorDtype dtype, Span<byte> destination)
    {
        var size = SizeBytes(dtype);
        if (destination.Length < source.Length * size)
        {
            throw new ArgumentException($"Destination holds {destination.Length} bytes; {source.Length * size} needed.", nameof(destination));
        }

        if (dtype == TensorDtype.F32 && BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(source).CopyTo(destination);
            return;
        }

        for (var i = 0; i < source.Length; i++)
        {
            var slot = destination[(i * size)..];
            switch (dtype)
            {
                case TensorDtype.F32:
                    BinaryPrimitives.WriteSingleLittleEndian(slot, source[i]);
                    break;
                case TensorDtype.F16:
                    BinaryPrimitives.WriteHalfLittleEndian(slot, (Half)source[i]);
                    break;
                case TensorDtype.BF16:
                    BinaryPrimitives.WriteUInt16LittleEndian(slot, ToBFloat16Bits(source[i]));
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null);
            }
        }
    }

    /// <summary>The bfloat16 nearest to <paramref name="value"/> (ties to even); NaN stays a quiet NaN.</summary>
    public static ushort ToBFloat16Bits(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x40);
        }

        var rounding = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
