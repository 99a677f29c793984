using System.Text;

namespace Strata.Runtime.Weights.Gguf;

/// <summary>Writes a GGUF version 3 file: metadata and tensors given in order, data aligned to <see cref="GgufReader.DefaultAlignment"/>.</summary>
/// <remarks>Tensor bytes are asked for one tensor at a time while writing, so a file larger than memory can be written.</remarks>
public sealed class GgufWriter
{
    private readonly List<(string Key, GgufValueType Type, object Value)> _metadata = [];
    private readonly List<(string Name, GgmlType Type, long[] Dimensions, long SizeBytes, Func<byte[]> Bytes)> _tensors = [];

    /// <summary>Adds a metadata value; <paramref name="value"/>'s .NET type must match <paramref name="type"/> (arrays as <see cref="GgufArray"/>).</summary>
    public GgufWriter Add(string key, GgufValueType type, object value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        _metadata.Add((key, type, value));
        return this;
    }

    /// <summary>Adds a uint32 value.</summary>
    public GgufWriter Add(string key, uint value) => Add(key, GgufValueType.UInt32, value);

    /// <summary>Adds a float32 value.</summary>
    public GgufWriter Add(string key, float value) => Add(key, GgufValueType.Float32, value);

    /// <summary>Adds a string value.</summary>
    public GgufWriter Add(string key, string value) => Add(key, GgufValueType.String, value);

    /// <summary>Adds a tensor of Hugging Face shape <paramref name="shape"/> (outermost first); <paramref name="bytes"/> gives its data when the file is written.</summary>
    /// <exception cref="ArgumentException">The shape's innermost dimension is not a whole number of <paramref name="type"/>'s blocks.</exception>
    public GgufWriter AddTensor(string name, GgmlType type, long[] shape, Func<byte[]> bytes)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(bytes);
        var dimensions = shape.Reverse().ToArray();
        var size = GgmlTypes.TensorBytes(type, dimensions[0], dimensions.Aggregate(1L, (a, b) => a * b))
            ?? throw new ArgumentException($"Tensor '{name}' of type {type} needs an innermost dimension that is a whole number of blocks; got {dimensions[0]}.", nameof(shape));
        _tensors.Add((name, type, dimensions, size, bytes));
        return this;
    }

    /// <summary>Writes the file.</summary>
    public void Write(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(GgufReader.Magic);
        writer.Write(3u);
        writer.Write((ulong)_tensors.Count);
        writer.Write((ulong)_metadata.Count);
        foreach (var (key, type, value) in _metadata)
        {
            WriteString(writer, key);
            writer.Write((uint)type);
            WriteValue(writer, type, value, key);
        }

        var offset = 0L;
        var offsets = new long[_tensors.Count];
        for (var i = 0; i < _tensors.Count; i++)
        {
            var (name, type, dimensions, size, _) = _tensors[i];
            WriteString(writer, name);
            writer.Write((uint)dimensions.Length);
            foreach (var extent in dimensions)
            {
                writer.Write((ulong)extent);
            }

            writer.Write((uint)type);
            offsets[i] = offset;
            writer.Write((ulong)offset);
            offset = GgufReader.Align(offset + size, GgufReader.DefaultAlignment);
        }

        writer.Flush();
        Pad(stream, GgufReader.Align(stream.Position, GgufReader.DefaultAlignment));
        var dataStart = stream.Position;
        for (var i = 0; i < _tensors.Count; i++)
        {
            var (name, _, _, size, bytes) = _tensors[i];
            Pad(stream, dataStart + offsets[i]);
            var data = bytes();
            if (data.Length != size)
            {
                throw new InvalidOperationException($"Tensor '{name}' gave {data.Length} bytes; its type and shape need {size}.");
            }

            stream.Write(data);
        }

        Pad(stream, GgufReader.Align(stream.Position, GgufReader.DefaultAlignment));
    }

    private static void Pad(Stream stream, long position)
    {
        while (stream.Position < position)
        {
            stream.WriteByte(0);
        }
    }

    private static void WriteString(BinaryWriter writer, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        writer.Write((ulong)bytes.Length);
        writer.Write(bytes);
    }

    private static void WriteValue(BinaryWriter writer, GgufValueType type, object value, string key)
    {
        switch (type, value)
        {
            case (GgufValueType.UInt8, byte v): writer.Write(v); break;
            case (GgufValueType.Int8, sbyte v): writer.Write(v); break;
            case (GgufValueType.UInt16, ushort v): writer.Write(v); break;
            case (GgufValueType.Int16, short v): writer.Write(v); break;
            case (GgufValueType.UInt32, uint v): writer.Write(v); break;
            case (GgufValueType.Int32, int v): writer.Write(v); break;
            case (GgufValueType.Float32, float v): writer.Write(v); break;
            case (GgufValueType.Bool, bool v): writer.Write((byte)(v ? 1 : 0)); break;
            case (GgufValueType.String, string v): WriteString(writer, v); break;
            case (GgufValueType.UInt64, ulong v): writer.Write(v); break;
            case (GgufValueType.Int64, long v): writer.Write(v); break;
            case (GgufValueType.Float64, double v): writer.Write(v); break;
            case (GgufValueType.Array, GgufArray array):
                writer.Write((uint)array.ElementType);
                writer.Write((ulong)array.Values.Count);
                foreach (var element in array.Values)
                {
                    WriteValue(writer, array.ElementType, element, key);
                }

                break;
            default:
                throw new ArgumentException($"Metadata '{key}' of type {type} cannot hold a {value.GetType().Name}.", nameof(value));
        }
    }
}
