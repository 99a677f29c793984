using System.Text.Json;
using Strata.Core.Hardware;
using Strata.Core.Identity;
using Strata.Core.Models;
using Strata.Core.Network;

namespace Strata.Core.Catalogs;

/// <summary>Reads the catalog JSON format: <c>{"models": [...], "devices": [...], "machines": [...]}</c>.</summary>
internal static class CatalogReader
{
    private static readonly JsonDocumentOptions Options = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    public static void Read(
        string json,
        string origin,
        Dictionary<string, ModelArchitecture> models,
        Dictionary<string, DeviceSpec> devices,
        Dictionary<string, MachineSpec> machines)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, Options);
        }
        catch (JsonException exception)
        {
            throw new StrataException($"{origin}: not valid JSON at line {exception.LineNumber + 1}: {exception.Message}", exception);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new StrataException($"{origin}: the top level is {root.ValueKind}; expected an object with 'models', 'devices' and/or 'machines' arrays.");
            }

            foreach (var entry in Array(root, "models", origin))
            {
                var id = RequiredString(entry, "id", origin, "models[]");
                var where = $"{origin}: model '{id}'";
                if (!entry.TryGetProperty("config", out var config))
                {
                    throw new StrataException($"{where} has no 'config'; expected the fields of its Hugging Face config.json.");
                }

                models[id] = HuggingFaceConfig.Parse(config, new ModelId(id), OptionalString(entry, "name") ?? id, OptionalString(entry, "source"), origin);
            }

            foreach (var entry in Array(root, "devices", origin))
            {
                var device = ReadDevice(entry, origin);
                devices[device.Id.Value] = device;
            }

            foreach (var entry in Array(root, "machines", origin))
            {
                var machine = ReadMachine(entry, origin, devices);
                machines[machine.Id.Value] = machine;
            }
        }
    }

    private static DeviceSpec ReadDevice(JsonElement entry, string origin)
    {
        var id = RequiredString(entry, "id", origin, "devices[]");
        var where = $"{origin}: device '{id}'";
        var kindText = RequiredString(entry, "kind", origin, $"device '{id}'");
        if (!Enum.TryParse<DeviceKind>(kindText, ignoreCase: true, out var kind))
        {
            throw new StrataException($"{where} field 'kind' is '{kindText}'; expected one of gpu, mig, cpu, phone, edge.");
        }

        if (!entry.TryGetProperty("peakFlopsPerSecond", out var peaks) || peaks.ValueKind != JsonValueKind.Object)
        {
            throw new StrataException($"{where} has no 'peakFlopsPerSecond' object; expected e.g. {{\"fp16\": 312e12}}.");
        }

        var flops = new Dictionary<Precision, double>();
        foreach (var peak in peaks.EnumerateObject())
        {
            if (peak.Name.Equals("tf32", StringComparison.OrdinalIgnoreCase))
            {
                continue; // TF32 tensor cores are not used for inference by default.
            }

            var precision = PrecisionInfo.Parse(peak.Name, $"precision key in {where} peakFlopsPerSecond");
            flops[precision] = PositiveNumber(peak.Value, $"{where} peakFlopsPerSecond.{peak.Name}");
        }

        return new DeviceSpec
        {
            Id = new DeviceId(id),
            Name = OptionalString(entry, "name") ?? id,
            Kind = kind,
            MemoryBytes = (long)PositiveNumber(Required(entry, "memoryBytes", where), $"{where} memoryBytes"),
            MemoryBandwidthBytesPerSecond = PositiveNumber(Required(entry, "memoryBandwidthBytesPerSecond", where), $"{where} memoryBandwidthBytesPerSecond"),
            PeakFlopsPerSecond = flops,
            PowerWatts = OptionalNumber(entry, "powerWatts", where) ?? 0,
            PricePerHour = OptionalNumber(entry, "pricePerHour", where) ?? 0,
            Interconnect = entry.TryGetProperty("interconnect", out var link) && link.ValueKind == JsonValueKind.Object ? ReadLink(link, $"{where} interconnect") : null,
            Source = OptionalString(entry, "source"),
            Notes = OptionalString(entry, "notes"),
        };
    }

    private static MachineSpec ReadMachine(JsonElement entry, string origin, Dictionary<string, DeviceSpec> devices)
    {
        var id = RequiredString(entry, "id", origin, "machines[]");
        var where = $"{origin}: machine '{id}'";
        var deviceId = RequiredString(entry, "device", origin, $"machine '{id}'");
        if (!devices.TryGetValue(deviceId, out var device))
        {
            throw new StrataException($"{where} field 'device' is '{deviceId}', which is not a device in the catalog.");
        }

        var count = PositiveNumber(Required(entry, "deviceCount", where), $"{where} deviceCount");
        if (count != Math.Floor(count))
        {
            throw new StrataException($"{where} field 'deviceCount' is {count}; expected a positive integer.");
        }

        var single = MachineSpec.Of(device, (int)count);
        var nics = ReadNetworkInterfaces(entry, where);
        return single with
        {
            Id = new MachineId(id),
            Name = OptionalString(entry, "name") ?? id,
            Interconnect = entry.TryGetProperty("interconnect", out var link) && link.ValueKind == JsonValueKind.Object ? ReadLink(link, $"{where} interconnect") : single.Interconnect,
            PowerWatts = OptionalNumber(entry, "powerWatts", where) ?? single.PowerWatts,
            PricePerHour = OptionalNumber(entry, "pricePerHour", where) ?? single.PricePerHour,
            NetworkInterfaceCount = nics?.Count ?? 0,
            NetworkInterfaceBytesPerSecond = nics?.BytesPerSecond ?? 0,
            Source = OptionalString(entry, "source") ?? single.Source,
        };
    }

    private static (int Count, double BytesPerSecond)? ReadNetworkInterfaces(JsonElement entry, string where)
    {
        if (!entry.TryGetProperty("networkInterfaces", out var nics) || nics.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var count = PositiveNumber(Required(nics, "count", $"{where} networkInterfaces"), $"{where} networkInterfaces.count");
        if (count != Math.Floor(count))
        {
            throw new StrataException($"{where} field 'networkInterfaces.count' is {count}; expected a positive integer.");
        }

        return ((int)count, PositiveNumber(Required(nics, "bandwidthBytesPerSecond", $"{where} networkInterfaces"), $"{where} networkInterfaces.bandwidthBytesPerSecond"));
    }

    private static LinkSpec ReadLink(JsonElement link, string where) =>
        new LinkSpec(
            OptionalNumber(link, "latencySeconds", where) ?? 0,
            PositiveNumber(Required(link, "bandwidthBytesPerSecond", where), $"{where} bandwidthBytesPerSecond"),
            OptionalString(link, "name")).Validate(where);

    private static IEnumerable<JsonElement> Array(JsonElement root, string name, string origin)
    {
        if (!root.TryGetProperty(name, out var array))
        {
            return [];
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new StrataException($"{origin}: '{name}' is {array.ValueKind}; expected an array.");
        }

        return array.EnumerateArray().ToArray();
    }

    private static JsonElement Required(JsonElement entry, string name, string where) =>
        entry.TryGetProperty(name, out var value) ? value : throw new StrataException($"{where} has no '{name}' field.");

    private static string RequiredString(JsonElement entry, string name, string origin, string where) =>
        entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()!
            : throw new StrataException($"{origin}: an entry of {where} has no '{name}' string.");

    private static string? OptionalString(JsonElement entry, string name) =>
        entry.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static double? OptionalNumber(JsonElement entry, string name, string where)
    {
        if (!entry.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !double.IsFinite(value.GetDouble()) || value.GetDouble() < 0)
        {
            throw new StrataException($"{where} field '{name}' is {value.GetRawText()}; expected a number >= 0.");
        }

        return value.GetDouble();
    }

    private static double PositiveNumber(JsonElement value, string where)
    {
        if (value.ValueKind != JsonValueKind.Number || !double.IsFinite(value.GetDouble()) || value.GetDouble() <= 0)
        {
            throw new StrataException($"{where} is {value.GetRawText()}; expected a number > 0.");
        }

        return value.GetDouble();
    }
}
