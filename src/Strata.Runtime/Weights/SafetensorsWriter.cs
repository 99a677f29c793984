using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Strata.Runtime.Weights;

/// <summary>Writes <c>.safetensors</c> files: header length, JSON header padded to 8 bytes, then the tensors in order.</summary>
public static class SafetensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> (and optional <c>__metadata__</c>) to <paramref name="path"/>, replacing it.</summary>
    public static void Write(string path, IReadOnlyList<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            long offset = 0;
            foreach (var tensor in tensors)
            {
                var elements = tensor.Shape.Aggregate(1L, (product, dimension) => product * dimension);
                if (elements != tensor.Data.Length)
                {
                    throw new ArgumentException($"Tensor '{tensor.Name}' has shape [{string.Join(", ", tensor.Shape)}] ({elements} elements) but {tensor.Data.Length} values.", nameof(tensors));
                }

                var bytes = elements * TensorDtypes.SizeBytes(tensor.Dtype);
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", TensorDtypes.HeaderName(tensor.Dtype));
                json.WriteStartArray("shape");
                foreach (var dimension in tensor.Shape)
                {
                    json.WriteNumberValue(dimension);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }

            json.WriteEndObject();
        }

        // Pad with spaces so the data starts 8-byte aligned (the format allows trailing whitespace).
        while (header.Length % 8 != 0)
        {
            header.WriteByte((byte)' ');
        }

        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        file.Write(prefix);
        header.Position = 0;
        header.CopyTo(file);
        const int ChunkElements = 1 << 16;
        var buffer = new byte[ChunkElements * 4];
        foreach (var tensor in tensors)
        {
            var size = TensorDtypes.SizeBytes(tensor.Dtype);
            for (var start = 0; start < tensor.Data.Length; start += ChunkElements)
            {
                var count = Math.Min(ChunkElements, tensor.Data.Length - start);
                TensorDtypes.FromFloat32(tensor.Data.AsSpan(start, count), tensor.Dtype, buffer);
                file.Write(buffer, 0, count * size);
            }
        }
    }

    /// <summary>Writes a header whose JSON text is given verbatim, then <paramref name="data"/>: for tests of malformed files.</summary>
    internal static void WriteRaw(string path, string headerJson, ReadOnlySpan<byte> data)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        using var file = File.Create(path);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        file.Write(prefix);
        file.Write(header);
        file.Write(data);
    }
}
