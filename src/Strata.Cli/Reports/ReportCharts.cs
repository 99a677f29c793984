using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace Strata.Cli.Reports;

/// <summary>The report's charts, rendered to PNG bytes at a fixed size with the same fonts and colours every time.</summary>
internal static class ReportCharts
{
    /// <summary>Width of every chart, pixels.</summary>
    public const int WidthPixels = 900;

    /// <summary>Height of every chart, pixels.</summary>
    public const int HeightPixels = 600;

    /// <summary>A log axis is used when the largest value exceeds the smallest by more than this (two decades).</summary>
    public const double LogScaleRangeRatio = 100;

    private const float TitleFontSize = 20;
    private const float LabelFontSize = 16;
    private const float TickFontSize = 13;
    private const float LegendFontSize = 13;
    private const float LineWidthPixels = 2;
    private const float MarkerSizePixels = 8;
    private const float LeftAxisWidthPixels = 80;

    private static readonly IPalette Palette = new ScottPlot.Palettes.Category10();

    /// <summary>The first installed sans-serif font of a fixed list; null keeps ScottPlot's choice (the system default, often a serif).</summary>
    private static readonly string? SansFontName = FirstInstalled("DejaVu Sans", "Liberation Sans", "Noto Sans", "Open Sans", "Arial", "Helvetica", "Segoe UI");

    /// <summary>One step line per series: the empirical CDF of its values in seconds.</summary>
    /// <param name="title">Chart title.</param>
    /// <param name="metric">Quantity on the x axis, without its unit (<c>TTFT</c>).</param>
    /// <param name="series">Legend label and values (seconds) of each line; lines without a finite value are left out.</param>
    public static byte[] Cdf(string title, string metric, IReadOnlyList<(string Label, IReadOnlyList<double> Seconds)> series)
    {
        var positive = series.SelectMany(s => s.Seconds).Where(v => double.IsFinite(v) && v > 0).ToArray();
        var logScale = positive.Length > 0 && positive.Max() > LogScaleRangeRatio * positive.Min();

        using var plot = NewPlot(title);
        for (var i = 0; i < series.Count; i++)
        {
            var values = logScale ? series[i].Seconds.Where(v => v > 0).Select(Math.Log10) : series[i].Seconds;
            var (xs, ys) = EmpiricalCdf.Of(values);
            if (xs.Length == 0)
            {
                continue;
            }

            var line = plot.Add.Scatter(xs, ys, Palette.GetColor(i));
            line.ConnectStyle = ConnectStyle.StepHorizontal;
            line.MarkerSize = 0;
            line.LineWidth = LineWidthPixels;
            line.LegendText = series[i].Label;
        }

        Label(plot.Axes.Bottom, logScale ? $"{metric} (s, log scale)" : $"{metric} (s)");
        Label(plot.Axes.Left, "Fraction of completed requests");
        if (logScale)
        {
            plot.Axes.Bottom.TickGenerator = new NumericAutomatic
            {
                IntegerTicksOnly = true,
                MinorTickGenerator = new LogMinorTickGenerator(),
                LabelFormatter = exponent => Math.Pow(10, exponent).ToString("G6", CultureInfo.InvariantCulture),
            };
        }

        plot.Axes.AutoScale();
        plot.Axes.SetLimitsY(0, 1.02);
        plot.ShowLegend(Alignment.LowerRight);
        return Png(plot);
    }

    /// <summary>Goodput (SLO-meeting requests per second of the run, the throughput window) against offered rate, one line per design, over the dashed line where every request is on time.</summary>
    public static byte[] GoodputVersusRate(IReadOnlyList<(string Design, RateSweepPoint[] Points)> designs)
    {
        using var plot = NewPlot("Goodput vs offered rate");
        var top = 0.0;
        for (var i = 0; i < designs.Count; i++)
        {
            var points = designs[i].Points.Where(p => double.IsFinite(p.Result.GoodputRequestsPerSecond)).ToArray();
            if (points.Length == 0)
            {
                continue;
            }

            AddLine(plot, designs[i].Design, Palette.GetColor(i), points.Select(p => p.OfferedRateRequestsPerSecond), points.Select(p => p.Result.GoodputRequestsPerSecond));
            top = Math.Max(top, points.Max(p => Math.Max(p.OfferedRateRequestsPerSecond, p.Result.GoodputRequestsPerSecond)));
        }

        top = top > 0 ? top * 1.05 : 1;
        var ideal = plot.Add.Line(0, 0, top, top);
        ideal.LinePattern = LinePattern.Dashed;
        ideal.LineWidth = LineWidthPixels;
        ideal.Color = Colors.Gray;
        ideal.LegendText = "every request on time";

        Label(plot.Axes.Bottom, "Offered rate (requests/s)");
        Label(plot.Axes.Left, "Goodput: requests/s meeting the SLO");
        plot.Axes.SetLimits(0, top, 0, top);
        plot.ShowLegend(Alignment.UpperLeft);
        return Png(plot);
    }

    /// <summary>P99 TTFT (top) and P50 TPOT (bottom) against offered rate, one line per design in each.</summary>
    public static byte[] LatencyVersusRate(IReadOnlyList<(string Design, RateSweepPoint[] Points)> designs)
    {
        using var ttft = NewPlot("P99 TTFT vs offered rate");
        using var tpot = NewPlot("P50 TPOT vs offered rate");
        for (var i = 0; i < designs.Count; i++)
        {
            var color = Palette.GetColor(i);
            var ttftPoints = designs[i].Points.Where(p => p.Result.Ttft.Count > 0 && double.IsFinite(p.Result.Ttft.P99)).ToArray();
            if (ttftPoints.Length > 0)
            {
                AddLine(ttft, designs[i].Design, color, ttftPoints.Select(p => p.OfferedRateRequestsPerSecond), ttftPoints.Select(p => p.Result.Ttft.P99));
            }

            var tpotPoints = designs[i].Points.Where(p => p.Result.Tpot.Count > 0 && double.IsFinite(p.Result.Tpot.P50)).ToArray();
            if (tpotPoints.Length > 0)
            {
                AddLine(tpot, designs[i].Design, color, tpotPoints.Select(p => p.OfferedRateRequestsPerSecond), tpotPoints.Select(p => p.Result.Tpot.P50 * 1e3));
            }
        }

        Label(ttft.Axes.Left, "P99 TTFT (s)");
        Label(tpot.Axes.Left, "P50 TPOT (ms)");
        Label(tpot.Axes.Bottom, "Offered rate (requests/s)");
        var rates = designs.SelectMany(design => design.Points).Select(point => point.OfferedRateRequestsPerSecond).Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
        var (left, right) = Padded(rates.Min(), rates.Max());
        foreach (var plot in new[] { ttft, tpot })
        {
            // Same left panel width in both, so their x axes line up.
            plot.Axes.Left.MinimumSize = LeftAxisWidthPixels;
            plot.Axes.AutoScale();
            plot.Axes.SetLimits(left, right, 0, Math.Max(plot.Axes.GetLimits().Top * 1.1, 1e-9));

            // Outside the data, where rising latency lines cannot hide it; both panels get one, so both keep the same width.
            plot.ShowLegend(Edge.Right);
        }

        var multiplot = new Multiplot(ttft);
        multiplot.AddPlot(tpot);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Rows();
        multiplot.SharedAxes.ShareX([ttft, tpot]);
        using var image = multiplot.Render(WidthPixels, HeightPixels);
        return image.GetImageBytes(ImageFormat.Png, 100);
    }

    /// <summary>Grouped bars: one group per category, one coloured bar per series in each group.</summary>
    /// <param name="title">Chart title.</param>
    /// <param name="valueLabel">Label of the value axis.</param>
    /// <param name="categories">Group names along the bottom axis.</param>
    /// <param name="series">Each series' values, one per category (NaN or infinity leaves the bar out).</param>
    public static byte[] GroupedBars(string title, string valueLabel, IReadOnlyList<string> categories, IReadOnlyList<(string Series, double[] Values)> series)
    {
        using var plot = NewPlot(title);
        var width = 0.8 / Math.Max(1, series.Count);
        var top = 0.0;
        for (var s = 0; s < series.Count; s++)
        {
            var bars = new List<Bar>();
            for (var c = 0; c < categories.Count; c++)
            {
                var value = series[s].Values[c];
                if (!double.IsFinite(value))
                {
                    continue;
                }

                top = Math.Max(top, value);
                var x = c - 0.4 + (width * (s + 0.5));
                bars.Add(new Bar { Position = x, Value = value, Size = width * 0.9, FillColor = Palette.GetColor(s) });
            }

            var added = plot.Add.Bars(bars);
            added.LegendText = series[s].Series;
        }

        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, categories.Count).Select(c => (double)c)], [.. categories]);
        Label(plot.Axes.Left, valueLabel);
        plot.Axes.SetLimits(-0.6, categories.Count - 0.4, 0, top > 0 ? top * 1.15 : 1);
        plot.ShowLegend(Alignment.UpperRight);
        return Png(plot);
    }

    private static string? FirstInstalled(params string[] families)
    {
        var installed = new HashSet<string>(SkiaSharp.SKFontManager.Default.FontFamilies, StringComparer.OrdinalIgnoreCase);
        return families.FirstOrDefault(installed.Contains);
    }

    private static (double Left, double Right) Padded(double min, double max)
    {
        var margin = max > min ? (max - min) * 0.05 : Math.Max(Math.Abs(max) * 0.1, 0.5);
        return (min - margin, max + margin);
    }

    private static Plot NewPlot(string title)
    {
        var plot = new Plot();
        plot.Title(title, TitleFontSize);
        plot.Legend.FontSize = LegendFontSize;
        foreach (var axis in new IAxis[] { plot.Axes.Bottom, plot.Axes.Left })
        {
            axis.TickLabelStyle.FontSize = TickFontSize;
        }

        if (SansFontName is { } font)
        {
            plot.Axes.Title.Label.FontName = font;
            plot.Legend.FontName = font;
            foreach (var axis in new IAxis[] { plot.Axes.Bottom, plot.Axes.Left })
            {
                axis.Label.FontName = font;
                axis.TickLabelStyle.FontName = font;
            }
        }

        return plot;
    }

    private static void Label(IAxis axis, string text)
    {
        axis.Label.Text = text;
        axis.Label.FontSize = LabelFontSize;
    }

    private static void AddLine(Plot plot, string label, Color color, IEnumerable<double> xs, IEnumerable<double> ys)
    {
        var line = plot.Add.Scatter(xs.ToArray(), ys.ToArray(), color);
        line.LineWidth = LineWidthPixels;
        line.MarkerSize = MarkerSizePixels;
        line.LegendText = label;
    }

    private static byte[] Png(Plot plot) => plot.GetImageBytes(WidthPixels, HeightPixels, ImageFormat.Png);
}
