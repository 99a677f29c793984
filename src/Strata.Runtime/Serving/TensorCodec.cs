using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using Strata.Runtime.Engine;
using Strata.Runtime.Protocol;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Serving;

/// <summary>fp32 arrays to and from the wire's <see cref="Tensor"/> and byte fields, with shape and size checks.</summary>
internal static class TensorCodec
{
    public static ByteString ToBytes(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        TensorDtypes.FromFloat32(values, TensorDtype.F32, bytes);
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }

    public static Tensor ToTensor(ReadOnlySpan<float> values, params long[] shape)
    {
        var tensor = new Tensor { Dtype = DType.F32, Data = ToBytes(values) };
        tensor.Shape.Add(shape);
        return tensor;
    }

    /// <summary>Fails with INVALID_ARGUMENT unless <paramref name="bytes"/> holds exactly <paramref name="expectedLength"/> fp32 values.</summary>
    public static void CheckLength(ByteString bytes, int expectedLength, string what)
    {
        if (bytes.Length != (long)expectedLength * sizeof(float))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"{what} holds {bytes.Length} bytes; its shape needs {(long)expectedLength * sizeof(float)} (fp32)."));
        }
    }

    /// <summary>Replaces a block's cache with the keys and values of a checked <see cref="KvBlock"/>.</summary>
    public static void LoadInto(BlockKvCache cache, KvBlock block)
    {
        if (BitConverter.IsLittleEndian)
        {
            cache.Truncate(0);
            cache.Append(MemoryMarshal.Cast<byte, float>(block.Keys.Span), MemoryMarshal.Cast<byte, float>(block.Values.Span), block.TokenCount);
            return;
        }

        var length = block.TokenCount * block.KeyValueDimension;
        cache.Import(new KvCacheSnapshot(block.BlockIndex, block.TokenCount, block.KeyValueDimension,
            FromBytes(block.Keys, length, "keys"), FromBytes(block.Values, length, "values")));
    }

    /// <summary>Decodes fp32 bytes holding exactly <paramref name="expectedLength"/> floats, or fails with INVALID_ARGUMENT.</summary>
    public static float[] FromBytes(ByteString bytes, int expectedLength, string what)
    {
        CheckLength(bytes, expectedLength, what);

        var values = new float[expectedLength];
        TensorDtypes.ToFloat32(bytes.Span, TensorDtype.F32, values);
        return values;
    }

    /// <summary>Decodes a <c>[rows, width]</c> fp32 tensor whose width must be <paramref name="width"/>, or fails with INVALID_ARGUMENT.</summary>
    public static float[] FromMatrix(Tensor? tensor, int width, int maxRows, string what, out int rows)
    {
        if (tensor is null)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"{what} is missing."));
        }

        if (tensor.Dtype != DType.F32)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"{what} has dtype {tensor.Dtype}; expected F32."));
        }

        if (tensor.Shape.Count != 2 || tensor.Shape[1] != width || tensor.Shape[0] < 1 || tensor.Shape[0] > maxRows)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"{what} has shape [{string.Join(", ", tensor.Shape)}]; expected [tokens, {width}] with 1 <= tokens <= {maxRows}."));
        }

        rows = (int)tensor.Shape[0];
        return FromBytes(tensor.Data, rows * width, what);
    }
}
