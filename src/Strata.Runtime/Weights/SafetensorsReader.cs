using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Strata.Core;

namespace Strata.Runtime.Weights;

/// <summary>Reads a <c>.safetensors</c> file: an 8-byte little-endian header length, a JSON header, then raw little-endian data.</summary>
/// <remarks>
/// The header is validated whole on open (dtypes, shapes, offsets inside the file, sizes that match
/// shapes, no overlaps), so a bad file fails with one sentence before any weight is read.
/// </remarks>
public sealed class SafetensorsReader : IDisposable
{
    /// <summary>Largest header accepted (the format's own limit is 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly SafeFileHandle _handle;
    private readonly long _dataStartBytes;
    private readonly Dictionary<string, SafetensorsTensorInfo> _tensors;

    private SafetensorsReader(string path, SafeFileHandle handle, long dataStartBytes, Dictionary<string, SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        _handle = handle;
        _dataStartBytes = dataStartBytes;
        _tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>The tensors of the file, by name.</summary>
    public IReadOnlyDictionary<string, SafetensorsTensorInfo> Tensors => _tensors;

    /// <summary>The free-form <c>__metadata__</c> strings.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    /// <exception cref="StrataException">The file is missing, truncated, or its header is malformed or inconsistent.</exception>
    public static SafetensorsReader Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new StrataException($"Safetensors file '{path}' does not exist.");
        }

        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            var fileBytes = RandomAccess.GetLength(handle);
            Span<byte> prefix = stackalloc byte[8];
            if (fileBytes < 8 || RandomAccess.Read(handle, prefix, 0) != 8)
            {
                throw new StrataException($"Safetensors file '{path}' is {fileBytes} bytes long; a valid file starts with an 8-byte header length.");
            }

            var headerBytes = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerBytes > (ulong)Math.Min(MaxHeaderBytes, fileBytes - 8))
            {
                throw new StrataException($"Safetensors file '{path}' declares a {headerBytes}-byte header but holds {fileBytes - 8} bytes after the length (limit {MaxHeaderBytes}); the file is truncated or not safetensors.");
            }

            var header = new byte[headerBytes];
            RandomAccess.Read(handle, header, 8);
            var dataStart = 8 + (long)headerBytes;
            var (tensors, metadata) = ParseHeader(path, header, fileBytes - dataStart);
            return new SafetensorsReader(path, handle, dataStart, tensors, metadata);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The entry of tensor <paramref name="name"/>.</summary>
    /// <exception cref="StrataException">The file has no such tensor.</exception>
    public SafetensorsTensorInfo Info(string name) =>
        _tensors.TryGetValue(name, out var info) ? info : throw new StrataException($"Safetensors file '{Path}' has no tensor '{name}'.");

    /// <summary>Reads tensor <paramref name="name"/> converted to fp32, row-major.</summary>
    public float[] ReadFloat32(string name)
    {
        var info = Info(name);
        var values = new float[checked((int)info.ElementCount)];
        Read(info, values);
        return values;
    }

    /// <summary>Reads the tensor of <paramref name="info"/> converted to fp32 into <paramref name="destination"/>, <c>(elements)</c>.</summary>
    public void Read(SafetensorsTensorInfo info, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(info);
        Read(info, 0, destination[..checked((int)info.ElementCount)]);
    }

    /// <summary>Reads elements <c>[firstElement, firstElement + destination.Length)</c> of the tensor of <paramref name="info"/>, converted to fp32.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range runs past the tensor.</exception>
    public void Read(SafetensorsTensorInfo info, long firstElement, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentOutOfRangeException.ThrowIfNegative(firstElement);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstElement + destination.Length, info.ElementCount, nameof(destination));
        var size = TensorDtypes.SizeBytes(info.Dtype);
        const int ChunkElements = 1 << 18;
        var buffer = new byte[Math.Min(destination.Length, ChunkElements) * size];
        for (long done = 0; done < destination.Length;)
        {
            var count = (int)Math.Min(ChunkElements, destination.Length - done);
            var bytes = buffer.AsSpan(0, count * size);
            var offset = _dataStartBytes + info.DataStartBytes + (firstElement + done) * size;
            var read = 0;
            while (read < bytes.Length)
            {
                var n = RandomAccess.Read(_handle, bytes[read..], offset + read);
                if (n == 0)
                {
                    throw new StrataException($"Safetensors file '{Path}' ended while reading tensor '{info.Name}'.");
                }

                read += n;
            }

            TensorDtypes.ToFloat32(bytes, info.Dtype, destination.Slice((int)done, count));
            done += count;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _handle.Dispose();

    private static (Dictionary<string, SafetensorsTensorInfo>, IReadOnlyDictionary<string, string>) ParseHeader(string path, byte[] header, long dataBytes)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException exception)
        {
            throw new StrataException($"Safetensors file '{path}' has a header that is not valid JSON: {exception.Message}", exception);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new StrataException($"Safetensors file '{path}' has a {document.RootElement.ValueKind} header; expected a JSON object of tensors.");
            }

            var tensors = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var entry in property.Value.EnumerateObject())
                        {
                            metadata[entry.Name] = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : entry.Value.GetRawText();
                        }
                    }

                    continue;
                }

                tensors.Add(property.Name, ParseTensor(path, property.Name, property.Value, dataBytes));
            }

            var ordered = tensors.Values.OrderBy(t => t.DataStartBytes).ThenBy(t => t.DataEndBytes).ToArray();
            for (var i = 1; i < ordered.Length; i++)
            {
                if (ordered[i].DataStartBytes < ordered[i - 1].DataEndBytes)
                {
                    throw new StrataException(
                        $"Safetensors file '{path}': tensors '{ordered[i - 1].Name}' and '{ordered[i].Name}' overlap (bytes {ordered[i - 1].DataStartBytes}-{ordered[i - 1].DataEndBytes} and {ordered[i].DataStartBytes}-{ordered[i].DataEndBytes}).");
                }
            }

            return (tensors, metadata);
        }
    }

    private static SafetensorsTensorInfo ParseTensor(string path, string name, JsonElement entry, long dataBytes)
    {
        string Where() => $"Safetensors file '{path}': tensor '{name}'";
        if (entry.ValueKind != JsonValueKind.Object)
        {
            throw new StrataException($"{Where()} is {entry.ValueKind}; expected an object with dtype, shape and data_offsets.");
        }

        var dtypeName = entry.TryGetProperty("dtype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        if (!TensorDtypes.TryParseHeaderName(dtypeName, out var dtype))
        {
            throw new StrataException($"{Where()} has dtype '{dtypeName ?? "(none)"}'; Strata reads F32, F16 and BF16.");
        }

        if (!entry.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw new StrataException($"{Where()} has no shape array.");
        }

        var shape = new List<long>();
        foreach (var dimension in shapeElement.EnumerateArray())
        {
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt64(out var value) || value < 0)
            {
                throw new StrataException($"{Where()} has shape {shapeElement.GetRawText()}; expected non-negative integers.");
            }

            shape.Add(value);
        }

        if (!entry.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetInt64(out var start) || !offsets[1].TryGetInt64(out var end) || start < 0 || end < start)
        {
            throw new StrataException($"{Where()} has data_offsets {(entry.TryGetProperty("data_offsets", out var raw) ? raw.GetRawText() : "(none)")}; expected [start, end] with 0 <= start <= end.");
        }

        if (end > dataBytes)
        {
            throw new StrataException($"{Where()} ends at data byte {end} but the file holds {dataBytes} data bytes; the file is truncated.");
        }

        var info = new SafetensorsTensorInfo(name, dtype, shape, start, end);
        var expectedBytes = info.ElementCount * TensorDtypes.SizeBytes(dtype);
        if (end - start != expectedBytes)
        {
            throw new StrataException($"{Where()} spans {end - start} bytes but shape {info.ShapeText} of {dtypeName} needs {expectedBytes}.");
        }

        if (info.ElementCount > Array.MaxLength)
        {
            throw new StrataException($"{Where()} has {info.ElementCount} elements; Strata reads tensors of at most {Array.MaxLength}.");
        }

        return info;
    }
}
