using System.Globalization;
using ScottPlot;
using Strata.Planning.Swarm;
using Strata.Simulation.Swarm;

namespace Strata.Cli.Reports;

/// <summary>PNG charts of a swarm study: which server holds which blocks, and the latency of every placement x routing pair.</summary>
internal static class SwarmReport
{
    private const int WidthPixels = 900;
    private const int HeightPixels = 600;

    /// <summary>Writes <c>placement-NAME.png</c> per placement and <c>latency.png</c>.</summary>
    public static void Write(string directory, SwarmInstance instance, IReadOnlyList<SwarmStudyRow> rows)
    {
        WritePlacements(directory, instance, [.. rows.DistinctBy(r => r.Placement).Select(r => (r.Placement, r.Plan.Placement))]);
        using var plot = new Plot();
        plot.Title("Mean per-token time (bars) and P99 (markers) per placement x routing");
        var bars = rows.Select((r, i) => new Bar { Position = i, Value = Finite(r.Result.MeanPerTokenSeconds), FillColor = Colors.SteelBlue }).ToArray();
        plot.Add.Bars(bars);
        var p99 = plot.Add.ScatterPoints(rows.Select((_, i) => (double)i).ToArray(), rows.Select(r => Finite(r.Result.P99PerTokenSeconds)).ToArray());
        p99.MarkerSize = 10;
        p99.Color = Colors.DarkRed;
        plot.Axes.Bottom.SetTicks([.. rows.Select((_, i) => (double)i)], [.. rows.Select(r => $"{r.Placement}\n{r.Routing}")]);
        plot.Axes.Left.Label.Text = "Seconds per output token";
        plot.Axes.Margins(bottom: 0);
        Save(directory, "latency.png", plot);
    }

    /// <summary>Writes one chart per placement: a horizontal bar per server from its first block to its last.</summary>
    public static void WritePlacements(string directory, SwarmInstance instance, IReadOnlyList<(string Name, SwarmPlacement Placement)> placements)
    {
        foreach (var (name, placement) in placements)
        {
            using var plot = new Plot();
            plot.Title($"{name}: blocks per server ({instance.LayerCount} blocks)");
            var bars = new List<Bar>();
            for (var j = 0; j < placement.ServerCount; j++)
            {
                var blocks = placement.Blocks(j);
                if (blocks.Count == 0)
                {
                    continue;
                }

                var fast = instance.Servers[j].Costs.DecodeSecondsPerBlock <= instance.Servers.Min(s => s.Costs.DecodeSecondsPerBlock);
                bars.Add(new Bar
                {
                    Position = j,
                    ValueBase = blocks.First,
                    Value = blocks.End,
                    FillColor = fast ? Colors.DarkOrange : Colors.SteelBlue,
                    Orientation = Orientation.Horizontal,
                });
            }

            plot.Add.Bars(bars);
            plot.Axes.Left.SetTicks([.. Enumerable.Range(0, placement.ServerCount).Select(j => (double)j)],
                [.. instance.Servers.Select(s => $"{s.Name} {s.Costs.DeviceId}")]);
            plot.Axes.Bottom.Label.Text = "Block (orange: fastest device)";
            plot.Axes.SetLimitsX(0, instance.LayerCount);
            Save(directory, string.Create(CultureInfo.InvariantCulture, $"placement-{name}.png"), plot);
        }
    }

    private static double Finite(double value) => double.IsFinite(value) ? value : 0;

    private static void Save(string directory, string file, Plot plot)
    {
        try
        {
            Directory.CreateDirectory(directory);
            File.WriteAllBytes(Path.Combine(directory, file), plot.GetImageBytes(WidthPixels, HeightPixels, ImageFormat.Png));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new Core.StrataException($"Cannot write the report to '{directory}': {exception.Message}", exception);
        }
    }
}
