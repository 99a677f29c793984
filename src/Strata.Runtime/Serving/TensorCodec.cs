using System.Buffers;
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

    /// <summary>
    /// A tensor whose bytes live in an array rented from <see cref="ArrayPool{T}.Shared"/>, returned once the response
    /// holding it has been sent (ASP.NET Core disposes what the response registers after its last byte). A step's reply
    /// (a 400-token prompt of width 768 is 1.2 MB) then stops costing a large-object-heap array per call.
    /// </summary>
    public static Tensor ToPooledTensor(ReadOnlySpan<float> values, ServerCallContext context, params long[] shape)
    {
        var http = context.GetHttpContext();
        var bytes = ArrayPool<byte>.Shared.Rent(values.Length * sizeof(float));
        http.Response.RegisterForDispose(new PooledBytes(bytes));
        TensorDtypes.FromFloat32(values, TensorDtype.F32, bytes.AsSpan(0, values.Length * sizeof(float)));
        var tensor = new Tensor { Dtype = DType.F32, Data = UnsafeByteOperations.UnsafeWrap(bytes.AsMemory(0, values.Length * sizeof(float))) };
        tensor.Shape.Add(shape);
        return tensor;
    }

    /// <summary>
    /// A <c>[rows, width]</c> tensor whose bytes live in <paramref name="rented"/>, from <see cref="ArrayPool{T}.Shared"/>:
    /// the caller returns it once the message has been sent (for a unary call: once its reply has arrived) and never
    /// while the message may still be serialized.
    /// </summary>
    public static Tensor ToRentedTensor(ReadOnlySpan<float> values, int rows, int width, out byte[] rented)
    {
        var length = values.Length * sizeof(float);
        rented = ArrayPool<byte>.Shared.Rent(length);
        TensorDtypes.FromFloat32(values, TensorDtype.F32, rented.AsSpan(0, length));
        var tensor = new Tensor { Dtype = DType.F32, Data = UnsafeByteOperations.UnsafeWrap(rented.AsMemory(0, length)) };
        tensor.Shape.Add(rows);
        tensor.Shape.Add(width);
        return tensor;
    }

    /// <summary>Decodes fp32 bytes, already checked for their length (<see cref="CheckMatrix"/>), into <paramref name="destination"/>.</summary>
    public static void DecodeInto(ByteString bytes, Span<float> destination)
    {
        if (bytes.Length != (long)destination.Length * sizeof(float))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"The tensor holds {bytes.Length} bytes; its shape needs {(long)destination.Length * sizeof(float)} (fp32)."));
        }

        TensorDtypes.ToFloat32(bytes.Span, TensorDtype.F32, destination);
    }

    /// <summary>Fails with INVALID_ARGUMENT unless <paramref name="bytes"/> holds exactly <paramref name="expectedLength"/> fp32 values.</summary>
    public static void CheckLength(ByteString bytes, int expectedLength, string what)
    {
        if (bytes.Length != (long)expectedLength * sizeof(float))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"{what} holds {bytes.Length} bytes; its shape needs {(long)expectedLength * sizeof(float)} (fp32)."));
        }
    }

    /// <summary>Appends the keys and values of a checked chunk (see <see cref="KvChunkReader"/>) to a block's cache: one copy, from the message's bytes into the cache.</summary>
    public static void AppendChunk(BlockKvCache cache, KvBlock chunk)
    {
        if (BitConverter.IsLittleEndian)
        {
            cache.Append(MemoryMarshal.Cast<byte, float>(chunk.Keys.Span), MemoryMarshal.Cast<byte, float>(chunk.Values.Span), chunk.TokenCount);
            return;
        }

        var length = chunk.TokenCount * chunk.KeyValueDimension;
        cache.Append(FromBytes(chunk.Keys, length, "keys"), FromBytes(chunk.Values, length, "values"), chunk.TokenCount);
    }

    /// <summary>Writes fp32 values as little-endian bytes (a plain copy on little-endian machines).</summary>
    public static void WriteFloats(ReadOnlySpan<float> values, Span<byte> destination) =>
        TensorDtypes.FromFloat32(values, TensorDtype.F32, destination);

    /// <summary>
    /// Sends one block's keys and values (little-endian fp32 bytes, <paramref name="tokens"/> rows each) as chunks of
    /// whole tokens of at most <paramref name="chunkBytes"/> (keys and values together, at least one token).
    /// </summary>
    /// <remarks>
    /// The messages wrap <paramref name="keys"/> and <paramref name="values"/> without copying them. That is safe
    /// because gRPC serializes a message into its output buffer before <c>WriteAsync</c> completes, and each
    /// write is awaited: the caller may reuse or return the memory once this method has completed, and must not
    /// change it before.
    /// </remarks>
    public static async Task WriteKvChunksAsync(
        IAsyncStreamWriter<KvBlock> writer, string sessionId, int blockIndex, int tokens, int keyValueDimension,
        ReadOnlyMemory<byte> keys, ReadOnlyMemory<byte> values, int chunkBytes, CancellationToken cancellationToken)
    {
        var rowBytes = keyValueDimension * sizeof(float);
        var perChunk = Math.Max(1, chunkBytes / (2 * rowBytes));
        var first = 0;
        do
        {
            var count = Math.Min(perChunk, tokens - first);
            await writer.WriteAsync(new KvBlock
            {
                SessionId = sessionId,
                BlockIndex = blockIndex,
                FirstToken = first,
                TokenCount = count,
                BlockTokenCount = tokens,
                KeyValueDimension = keyValueDimension,
                Keys = UnsafeByteOperations.UnsafeWrap(keys.Slice(first * rowBytes, count * rowBytes)),
                Values = UnsafeByteOperations.UnsafeWrap(values.Slice(first * rowBytes, count * rowBytes)),
            }, cancellationToken).ConfigureAwait(false);
            first += count;
        }
        while (first < tokens);
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
        rows = CheckMatrix(tensor, width, maxRows, what);
        return FromBytes(tensor!.Data, rows * width, what);
    }

    /// <summary>The rows of a <c>[rows, width]</c> fp32 tensor whose width must be <paramref name="width"/> and whose bytes must match its shape, or INVALID_ARGUMENT; decodes nothing.</summary>
    public static int CheckMatrix(Tensor? tensor, int width, int maxRows, string what)
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

        var rows = (int)tensor.Shape[0];
        CheckLength(tensor.Data, rows * width, what);
        return rows;
    }

    // Gives a rented array back to the pool when the response that used it is disposed.
    private sealed class PooledBytes(byte[] bytes) : IDisposable
    {
        private byte[]? _bytes = bytes;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _bytes, null) is { } array)
            {
                ArrayPool<byte>.Shared.Return(array);
            }
        }
    }
}
