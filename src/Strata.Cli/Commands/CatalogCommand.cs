using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Strata.Cli.Output;
using Strata.Core;
using Strata.Core.Catalogs;
using Strata.Core.Hardware;
using Strata.Core.Models;

namespace Strata.Cli.Commands;

/// <summary><c>strata catalog</c>: the models, devices and machines Strata knows by name.</summary>
internal static class CatalogCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("catalog", "List the built-in (and --catalog) models, devices and machines, or show one.");
        command.Subcommands.Add(List(context, "models", "List the models: layers, widths, heads, parameters.", RenderModels, catalog => catalog.Models.Select(ModelJson)));
        command.Subcommands.Add(List(context, "devices", "List the devices: peak FLOP/s, memory, bandwidth, power, price.", RenderDevices, catalog => catalog.Devices.Select(DeviceJson)));
        command.Subcommands.Add(List(context, "machines", "List the multi-device machines (DGX and the like).", RenderMachines, catalog => catalog.Machines.Select(MachineJson)));

        var name = new Argument<string>("name") { Description = "A model, device or machine id." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var show = new Command("show", "Show one model, device or machine with every number and its source.") { name, json };
        show.SetAction(parseResult =>
        {
            var catalog = context.Catalog(parseResult);
            var id = parseResult.GetValue(name)!;
            object entry = catalog.HasModel(id) ? ModelJson(catalog.Model(id))
                : catalog.HasDevice(id) ? DeviceJson(catalog.Device(id))
                : catalog.Machines.Any(m => m.Id.Value.Equals(id, StringComparison.OrdinalIgnoreCase)) ? MachineJson(catalog.Machine(id))
                : throw new StrataException($"No model, device or machine is called '{id}'. Run 'strata catalog models', 'strata catalog devices' or 'strata catalog machines' to see them.");
            if (parseResult.GetValue(json))
            {
                Json.Write(context.Output, entry);
            }
            else
            {
                RenderEntry(context.Console, id, entry);
            }

            return 0;
        });
        command.Subcommands.Add(show);
        return command;
    }

    private static Command List(CliContext context, string name, string description, Action<IAnsiConsole, Catalog> render, Func<Catalog, IEnumerable<object>> toJson)
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array instead of a table." };
        var command = new Command(name, description) { json };
        command.SetAction(parseResult =>
        {
            var catalog = context.Catalog(parseResult);
            if (parseResult.GetValue(json))
            {
                Json.Write(context.Output, toJson(catalog).ToArray());
            }
            else
            {
                render(context.Console, catalog);
            }

            return 0;
        });
        return command;
    }

    internal static void RenderModels(IAnsiConsole console, Catalog catalog)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]Models[/]")
            .AddColumn("Id").AddColumn("Name").AddColumn(Right("Params")).AddColumn(Right("Layers")).AddColumn(Right("Hidden"))
            .AddColumn(Right("Heads / KV")).AddColumn(Right("FFN")).AddColumn("MLP").AddColumn(Right("Vocab")).AddColumn(Right("KV/token (fp16)"));
        foreach (var m in catalog.Models)
        {
            table.AddRow(
                Markup.Escape(m.Id.Value), Markup.Escape(m.Name), Units.Count(m.TotalParameters), Int(m.LayerCount), Int(m.HiddenSize),
                $"{m.AttentionHeadCount} / {m.KeyValueHeadCount}", Int(m.IntermediateSize), m.Mlp.ToString().ToLowerInvariant(), Int(m.VocabularySize),
                Units.Bytes(2.0 * m.KeyValueDimension * 2 * m.LayerCount));
        }

        console.Write(table);
    }

    internal static void RenderDevices(IAnsiConsole console, Catalog catalog)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]Devices[/]")
            .AddColumn("Id").AddColumn("Kind").AddColumn(Right("fp16 peak")).AddColumn(Right("Memory")).AddColumn(Right("Bandwidth"))
            .AddColumn(Right("Power")).AddColumn(Right("$/hour"));
        foreach (var d in catalog.Devices)
        {
            table.AddRow(
                Markup.Escape(d.Id.Value), d.Kind.ToString().ToLowerInvariant(), Units.Flops(d.PeakFlopsFor(Precision.Fp16)), Units.Bytes(d.MemoryBytes),
                $"{d.MemoryBandwidthBytesPerSecond / 1e9:F0} GB/s", $"{d.PowerWatts:F0} W", d.PricePerHour.ToString("F2", CultureInfo.InvariantCulture));
        }

        console.Write(table);
    }

    internal static void RenderMachines(IAnsiConsole console, Catalog catalog)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]Machines[/]")
            .AddColumn("Id").AddColumn("Name").AddColumn("Devices").AddColumn("Interconnect").AddColumn(Right("Power")).AddColumn(Right("$/hour"));
        foreach (var m in catalog.Machines)
        {
            var link = m.Interconnect is { } l ? $"{Markup.Escape(l.Name ?? "link")}, {l.BandwidthBytesPerSecond / 1e9:F0} GB/s" : "-";
            table.AddRow(Markup.Escape(m.Id.Value), Markup.Escape(m.Name), $"{m.DeviceCount} x {Markup.Escape(m.Device.Id.Value)}", link,
                $"{m.PowerWatts:F0} W", m.PricePerHour.ToString("F2", CultureInfo.InvariantCulture));
        }

        console.Write(table);
        console.MarkupLine("[grey]Any device id, or NxDEVICE (e.g. 4xa100-80gb), is a machine too.[/]");
    }

    private static void RenderEntry(IAnsiConsole console, string id, object entry)
    {
        var document = System.Text.Json.JsonSerializer.SerializeToElement(entry);
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(id)}[/]").AddColumn("Field").AddColumn("Value");
        foreach (var property in document.EnumerateObject())
        {
            var value = property.Value.ValueKind == System.Text.Json.JsonValueKind.String ? property.Value.GetString() : property.Value.GetRawText();
            table.AddRow(Markup.Escape(property.Name), Markup.Escape(value ?? ""));
        }

        console.Write(table);
    }

    internal static object ModelJson(ModelArchitecture m) => new
    {
        id = m.Id.Value,
        name = m.Name,
        parameters = m.TotalParameters,
        layers = m.LayerCount,
        hiddenSize = m.HiddenSize,
        attentionHeads = m.AttentionHeadCount,
        keyValueHeads = m.KeyValueHeadCount,
        headDimension = m.HeadDimension,
        intermediateSize = m.IntermediateSize,
        mlp = m.Mlp.ToString().ToLowerInvariant(),
        vocabularySize = m.VocabularySize,
        tiedEmbeddings = m.TiedEmbeddings,
        maxContextTokens = m.MaxContextTokens,
        nativePrecision = PrecisionInfo.Name(m.NativePrecision),
        parametersPerBlock = m.ParametersPerBlock,
        source = m.Source,
    };

    internal static object DeviceJson(DeviceSpec d) => new
    {
        id = d.Id.Value,
        name = d.Name,
        kind = d.Kind.ToString().ToLowerInvariant(),
        memoryBytes = d.MemoryBytes,
        memoryBandwidthBytesPerSecond = d.MemoryBandwidthBytesPerSecond,
        peakFlopsPerSecond = d.PeakFlopsPerSecond.ToDictionary(pair => PrecisionInfo.Name(pair.Key), pair => pair.Value),
        powerWatts = d.PowerWatts,
        pricePerHour = d.PricePerHour,
        interconnect = d.Interconnect is { } l ? new { name = l.Name, bandwidthBytesPerSecond = l.BandwidthBytesPerSecond, latencySeconds = l.LatencySeconds } : null,
        source = d.Source,
        notes = d.Notes,
    };

    internal static object MachineJson(MachineSpec m) => new
    {
        id = m.Id.Value,
        name = m.Name,
        device = m.Device.Id.Value,
        deviceCount = m.DeviceCount,
        interconnect = m.Interconnect is { } l ? new { name = l.Name, bandwidthBytesPerSecond = l.BandwidthBytesPerSecond, latencySeconds = l.LatencySeconds } : null,
        powerWatts = m.PowerWatts,
        pricePerHour = m.PricePerHour,
        source = m.Source,
    };

    private static TableColumn Right(string header) => new TableColumn(header).RightAligned();

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
}
