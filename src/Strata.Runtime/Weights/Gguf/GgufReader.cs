using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Strata.Core;
using Strata.Runtime.Kernels;

namespace Strata.Runtime.Weights.Gguf;

/// <summary>Reads a GGUF file (versions 2 and 3): header, metadata, tensor table, then aligned tensor data.</summary>
/// <remarks>
/// The whole header is read and validated on open (magic, version, counts, value types, string lengths, tensor
/// types and shapes, data ranges inside the file, no overlaps), so a bad file fails with one sentence naming the
/// file, the field, its value and what was expected, before any weight is read.
/// </remarks>
public sealed partial class GgufReader : IDisposable
{
    /// <summary>The four bytes every GGUF file starts with.</summary>
    public const uint Magic = 0x46554747; // "GGUF" little-endian

    /// <summary>The alignment of tensor data when <c>general.alignment</c> is absent.</summary>
    public const int DefaultAlignment = 32;

    /// <summary>Longest string accepted in a header (chat templates run to tens of kilobytes; 16 MiB leaves room).</summary>
    public const long MaxStringBytes = 16 << 20;

    private readonly SafeFileHandle _handle;
    private readonly Dictionary<string, object> _metadata;
    private readonly Dictionary<string, GgufTensorInfo> _tensors;

    private GgufReader(string path, SafeFileHandle handle, uint version, Dictionary<string, object> metadata, List<GgufTensorInfo> tensors, long dataStartBytes)
    {
        Path = path;
        _handle = handle;
        Version = version;
        _metadata = metadata;
        TensorList = tensors;
        _tensors = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        DataStartBytes = dataStartBytes;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>The format version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>Offset of the data section from the start of the file.</summary>
    public long DataStartBytes { get; }

    /// <summary>The metadata: scalars as their .NET types (<c>uint</c>, <c>float</c>, <c>string</c>, ...), arrays as <see cref="GgufArray"/>.</summary>
    public IReadOnlyDictionary<string, object> Metadata => _metadata;

    /// <summary>The tensors, by name.</summary>
    public IReadOnlyDictionary<string, GgufTensorInfo> Tensors => _tensors;

    /// <summary>The tensors in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> TensorList { get; }

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    /// <exception cref="StrataException">The file is missing, truncated, or its header is malformed or inconsistent.</exception>
    public static GgufReader Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new StrataException($"GGUF file '{path}' does not exist.");
        }

        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            var fileBytes = RandomAccess.GetLength(handle);
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var header = new HeaderReader(stream, path, fileBytes);
            var magic = header.UInt32("magic");
            if (magic != Magic)
            {
                throw new StrataException($"GGUF file '{path}': magic is 0x{magic:X8}; expected 0x{Magic:X8} (\"GGUF\"). Is this a GGUF file?");
            }

            var version = header.UInt32("version");
            if (version is not (2 or 3))
            {
                throw new StrataException($"GGUF file '{path}': version is {version}; expected 2 or 3.");
            }

            var tensorCount = header.Count("tensor_count", 1 << 20);
            var metadataCount = header.Count("metadata_kv_count", 1 << 20);
            var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
            for (var i = 0L; i < metadataCount; i++)
            {
                var key = header.String($"metadata key {i}");
                var type = header.ValueType($"type of metadata '{key}'");
                var value = header.Value(type, key);
                if (!metadata.TryAdd(key, value))
                {
                    throw new StrataException($"GGUF file '{path}': metadata key '{key}' appears twice.");
                }
            }

            var alignment = DefaultAlignment;
            if (metadata.TryGetValue("general.alignment", out var alignmentValue))
            {
                if (alignmentValue is not uint a || a == 0 || (a & (a - 1)) != 0 || a > 1 << 20)
                {
                    throw new StrataException($"GGUF file '{path}': general.alignment is {alignmentValue}; expected a power of two up to 1048576 (a uint32).");
                }

                alignment = (int)a;
            }

            var raw = new List<(string Name, GgmlType Type, long[] Dimensions, long Offset)>();
            for (var i = 0L; i < tensorCount; i++)
            {
                var name = header.String($"name of tensor {i}");
                var dimensionCount = header.UInt32($"n_dims of tensor '{name}'");
                if (dimensionCount is 0 or > 4)
                {
                    throw new StrataException($"GGUF file '{path}': tensor '{name}' has n_dims {dimensionCount}; expected 1 to 4.");
                }

                var dimensions = new long[dimensionCount];
                for (var d = 0; d < dimensionCount; d++)
                {
                    var extent = header.UInt64($"ne[{d}] of tensor '{name}'");
                    if (extent is 0 or > int.MaxValue)
                    {
                        throw new StrataException($"GGUF file '{path}': tensor '{name}' has ne[{d}] = {extent}; expected 1 to {int.MaxValue}.");
                    }

                    dimensions[d] = (long)extent;
                }

                var typeNumber = header.UInt32($"type of tensor '{name}'");
                var offset = header.UInt64($"offset of tensor '{name}'");
                raw.Add((name, (GgmlType)typeNumber, dimensions, (long)Math.Min(offset, long.MaxValue)));
            }

            var dataStart = Align(header.Position, alignment);
            var dataBytes = fileBytes - dataStart;
            var tensors = new List<GgufTensorInfo>(raw.Count);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, type, dimensions, offset) in raw)
            {
                if (!names.Add(name))
                {
                    throw new StrataException($"GGUF file '{path}': tensor '{name}' appears twice.");
                }

                if (GgmlTypes.Block(type) is null)
                {
                    throw new StrataException($"GGUF file '{path}': tensor '{name}' has ggml type {(uint)type}, which is not a known type; expected one of {string.Join(", ", Enum.GetNames<GgmlType>())}.");
                }

                var elements = dimensions.Aggregate(1L, (product, extent) => product * extent);
                var size = GgmlTypes.TensorBytes(type, dimensions[0], elements)
                    ?? throw new StrataException($"GGUF file '{path}': tensor '{name}' of type {type} has ne[0] = {dimensions[0]}, not a multiple of its block of {GgmlTypes.Block(type)!.Value.Values}.");
                if (offset % alignment != 0)
                {
                    throw new StrataException($"GGUF file '{path}': tensor '{name}' has offset {offset}, not a multiple of the alignment {alignment}.");
                }

                if (offset > dataBytes || size > dataBytes - offset)
                {
                    throw new StrataException($"GGUF file '{path}': tensor '{name}' ({type}, ne [{string.Join(", ", dimensions)}]) needs bytes [{offset}, {offset + size}) of the data section, which holds {Math.Max(0, dataBytes)} bytes: the file is truncated or the offset is wrong.");
                }

                tensors.Add(new GgufTensorInfo(name, type, dimensions, offset, size));
            }

            var sorted = tensors.OrderBy(t => t.OffsetBytes).ToList();
            for (var i = 1; i < sorted.Count; i++)
            {
                if (sorted[i].OffsetBytes < sorted[i - 1].OffsetBytes + sorted[i - 1].SizeBytes)
                {
                    throw new StrataException($"GGUF file '{path}': tensors '{sorted[i - 1].Name}' and '{sorted[i].Name}' overlap in the data section.");
                }
            }

            return new GgufReader(path, handle, version, metadata, tensors, dataStart);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads <paramref name="destination"/>.Length bytes of <paramref name="tensor"/>'s data, starting <paramref name="offsetBytes"/> into it.</summary>
    public void ReadBytes(GgufTensorInfo tensor, long offsetBytes, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (offsetBytes < 0 || offsetBytes + destination.Length > tensor.SizeBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(offsetBytes), $"Bytes [{offsetBytes}, {offsetBytes + destination.Length}) are outside tensor '{tensor.Name}' ({tensor.SizeBytes} bytes).");
        }

        var at = DataStartBytes + tensor.OffsetBytes + offsetBytes;
        while (destination.Length > 0)
        {
            var read = RandomAccess.Read(_handle, destination, at);
            if (read <= 0)
            {
                throw new StrataException($"GGUF file '{Path}': tensor '{tensor.Name}' ends early at byte {at}; the file shrank while open.");
            }

            destination = destination[read..];
            at += read;
        }
    }

    /// <summary>Reads rows <c>[firstRow, firstRow + rows.Length / inner)</c> of <paramref name="tensor"/> as fp32 (dequantized), where a row is <c>ne[0]</c> values.</summary>
    /// <exception cref="StrataException">The tensor's type cannot be converted to fp32 here.</exception>
    public void ReadRows(GgufTensorInfo tensor, long firstRow, Span<float> rows)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var inner = tensor.Dimensions[0];
        var count = rows.Length / inner;
        var (values, bytes) = GgmlTypes.Block(tensor.Type)!.Value;
        var rowBytes = inner / values * bytes;
        var buffer = new byte[rowBytes * count];
        ReadBytes(tensor, firstRow * rowBytes, buffer);
        switch (tensor.Type)
        {
            case GgmlType.F32:
                MemoryMarshal.Cast<byte, float>(buffer).CopyTo(rows);
                if (!BitConverter.IsLittleEndian)
                {
                    throw new PlatformNotSupportedException("GGUF files are little-endian; this machine is not.");
                }

                break;
            case GgmlType.F16:
                var halves = MemoryMarshal.Cast<byte, Half>(buffer);
                for (var i = 0; i < halves.Length; i++)
                {
                    rows[i] = (float)halves[i];
                }

                break;
            case GgmlType.BF16:
                var words = MemoryMarshal.Cast<byte, ushort>(buffer);
                for (var i = 0; i < words.Length; i++)
                {
                    rows[i] = BitConverter.Int32BitsToSingle(words[i] << 16);
                }

                break;
            case GgmlType.Q8_0 or GgmlType.Q4_0:
                var format = tensor.Type == GgmlType.Q8_0 ? QuantFormat.Q8_0 : QuantFormat.Q4_0;
                for (var r = 0; r < count; r++)
                {
                    BlockQuantizer.DequantizeRow(buffer.AsSpan((int)(r * rowBytes), (int)rowBytes), rows.Slice((int)(r * inner), (int)inner), format);
                }

                break;
            case GgmlType.Q4_K:
                for (var r = 0; r < count; r++)
                {
                    Q4KBlocks.DequantizeRow(buffer.AsSpan((int)(r * rowBytes), (int)rowBytes), rows.Slice((int)(r * inner), (int)inner));
                }

                break;
            default:
                throw new StrataException($"GGUF file '{Path}': tensor '{tensor.Name}' has type {tensor.Type}; Strata reads F32, F16, BF16, Q8_0, Q4_0 and Q4_K tensors.");
        }
    }

    /// <summary>The whole tensor as fp32, row-major outermost first.</summary>
    public float[] ReadFloats(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var values = new float[tensor.ElementCount];
        ReadRows(tensor, 0, values);
        return values;
    }

    /// <inheritdoc/>
    public void Dispose() => _handle.Dispose();

    internal static long Align(long offset, int alignment) => (offset + alignment - 1) / alignment * alignment;

    // Sequential reads of the header with every length checked against the file before it is trusted.
    private sealed class HeaderReader(Stream stream, string path, long fileBytes)
    {
        private readonly byte[] _scratch = new byte[8];

        public long Position { get; private set; }

        public uint UInt32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4, field));

        public ulong UInt64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8, field));

        public long Count(string field, long max)
        {
            var count = UInt64(field);
            return count > (ulong)max
                ? throw new StrataException($"GGUF file '{path}': {field} is {count}; expected at most {max}.")
                : (long)count;
        }

        public GgufValueType ValueType(string field)
        {
            var type = UInt32(field);
            return type <= (uint)GgufValueType.Float64
                ? (GgufValueType)type
                : throw new StrataException($"GGUF file '{path}': {field} is {type}; expected a gguf_type from 0 to 12.");
        }

        public string String(string field)
        {
            var length = UInt64($"length of {field}");
            if (length > MaxStringBytes || (long)length > fileBytes - Position)
            {
                throw new StrataException($"GGUF file '{path}': {field} has length {length}; expected at most {Math.Min(MaxStringBytes, fileBytes - Position)} bytes (the string limit or the rest of the file).");
            }

            var bytes = new byte[length];
            ReadExactly(bytes, field);
            try
            {
                return new UTF8Encoding(false, true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw new StrataException($"GGUF file '{path}': {field} is not valid UTF-8.");
            }
        }

        public object Value(GgufValueType type, string key)
        {
            var field = $"value of '{key}'";
            return type switch
            {
                GgufValueType.UInt8 => Bytes(1, field)[0],
                GgufValueType.Int8 => (sbyte)Bytes(1, field)[0],
                GgufValueType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2, field)),
                GgufValueType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(Bytes(2, field)),
                GgufValueType.UInt32 => UInt32(field),
                GgufValueType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(Bytes(4, field)),
                GgufValueType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(Bytes(4, field)),
                GgufValueType.Bool => Bool(field),
                GgufValueType.String => String(field),
                GgufValueType.UInt64 => UInt64(field),
                GgufValueType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8, field)),
                GgufValueType.Float64 => BinaryPrimitives.ReadDoubleLittleEndian(Bytes(8, field)),
                GgufValueType.Array => Array(key),
                _ => throw new StrataException($"GGUF file '{path}': metadata '{key}' has type {(uint)type}; expected a gguf_type from 0 to 12."),
            };
        }

        private bool Bool(string field)
        {
            var value = Bytes(1, field)[0];
            return value <= 1 ? value == 1 : throw new StrataException($"GGUF file '{path}': {field} is the bool byte {value}; expected 0 or 1.");
        }

        private GgufArray Array(string key)
        {
            var elementType = ValueType($"element type of '{key}'");
            if (elementType == GgufValueType.Array)
            {
                throw new StrataException($"GGUF file '{path}': metadata '{key}' is an array of arrays; Strata reads arrays of scalars and strings.");
            }

            var count = Count($"length of '{key}'", fileBytes - Position);
            var values = new object[count];
            for (var i = 0L; i < count; i++)
            {
                values[i] = Value(elementType, key);
            }

            return new GgufArray(elementType, values);
        }

        private ReadOnlySpan<byte> Bytes(int count, string field)
        {
            ReadExactly(_scratch.AsSpan(0, count), field);
            return _scratch.AsSpan(0, count);
        }

        private void ReadExactly(Span<byte> destination, string field)
        {
            if (destination.Length > fileBytes - Position)
            {
                throw new StrataException($"GGUF file '{path}' ends at byte {fileBytes} while reading {field} at byte {Position}: the file is truncated.");
            }

            stream.ReadExactly(destination);
            Position += destination.Length;
        }
    }
}
