using Strata.Cli.Reports;
using Strata.Core;
using Strata.Simulation.Cluster;

namespace Strata.Cli.Tests.Reports;

public sealed class SimulationReportTests(ReportFixture fixture) : IClassFixture<ReportFixture>
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static readonly string[] AllFiles =
    [
        SimulationReport.TtftCdfFile, SimulationReport.E2eCdfFile, SimulationReport.ThroughputFile, SimulationReport.LatencyFile, SimulationReport.SummaryFile,
    ];

    [Fact]
    public void Report_writes_every_chart_and_the_summary_into_a_new_nested_folder()
    {
        using var temp = new TempFolder();
        var folder = Path.Combine(temp.Path, "nested", "report");

        var written = SimulationReport.Write(folder, fixture.Runs, fixture.Sweep);

        Assert.Equal(AllFiles.Select(name => Path.Combine(Path.GetFullPath(folder), name)), written);
        foreach (var path in written)
        {
            Assert.True(File.Exists(path), $"{path} was reported written but does not exist");
        }
    }

    [Fact]
    public void Charts_are_real_pngs_of_the_stated_size()
    {
        using var temp = new TempFolder();

        var written = SimulationReport.Write(temp.Path, fixture.Runs, fixture.Sweep);

        foreach (var path in written.Where(p => p.EndsWith(".png", StringComparison.Ordinal)))
        {
            var bytes = File.ReadAllBytes(path);
            Assert.True(bytes.AsSpan().StartsWith(PngSignature), $"{path} does not start with the PNG signature");
            Assert.True(bytes.Length > 5 * 1024, $"{path} is {bytes.Length} bytes; expected a drawn chart > 5 KB");

            // IHDR: width and height, big-endian, at bytes 16..23.
            Assert.Equal(ReportCharts.WidthPixels, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4)));
            Assert.Equal(ReportCharts.HeightPixels, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20, 4)));
        }
    }

    [Fact]
    public void Summary_has_the_runs_table_the_sweep_table_and_links_to_every_chart()
    {
        using var temp = new TempFolder();

        SimulationReport.Write(temp.Path, fixture.Runs, fixture.Sweep);
        var summary = File.ReadAllText(Path.Combine(temp.Path, SimulationReport.SummaryFile));

        Assert.StartsWith("# ", summary, StringComparison.Ordinal);
        Assert.Contains(SummaryMarkdown.RunsHeader, summary, StringComparison.Ordinal);
        Assert.Contains(SummaryMarkdown.SweepHeader, summary, StringComparison.Ordinal);
        foreach (var run in fixture.Runs)
        {
            Assert.Contains($"| {run.Label} | {run.Result.Requests:N0} | {run.Result.Completed:N0} |", summary, StringComparison.Ordinal);
        }

        foreach (var chart in AllFiles.Where(name => name.EndsWith(".png", StringComparison.Ordinal)))
        {
            Assert.Contains($"]({chart})", summary, StringComparison.Ordinal);
        }

        Assert.DoesNotContain('\r', summary);
    }

    [Fact]
    public void Writing_twice_gives_a_byte_identical_summary_and_charts()
    {
        using var first = new TempFolder();
        using var second = new TempFolder();

        var a = SimulationReport.Write(first.Path, fixture.Runs, fixture.Sweep);
        var b = SimulationReport.Write(second.Path, fixture.Runs, fixture.Sweep);

        Assert.Equal(a.Count, b.Count);
        for (var i = 0; i < a.Count; i++)
        {
            Assert.True(File.ReadAllBytes(a[i]).AsSpan().SequenceEqual(File.ReadAllBytes(b[i])), $"{Path.GetFileName(a[i])} differs between two writes of the same inputs");
        }
    }

    [Fact]
    public void Without_a_sweep_the_sweep_charts_and_table_are_left_out()
    {
        using var temp = new TempFolder();

        var written = SimulationReport.Write(temp.Path, fixture.Runs, []);
        var summary = File.ReadAllText(Path.Combine(temp.Path, SimulationReport.SummaryFile));

        Assert.Equal([SimulationReport.TtftCdfFile, SimulationReport.E2eCdfFile, SimulationReport.SummaryFile], written.Select(Path.GetFileName));
        Assert.DoesNotContain(SummaryMarkdown.SweepHeader, summary, StringComparison.Ordinal);
        Assert.DoesNotContain(SimulationReport.ThroughputFile, summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Runs_without_outcomes_get_a_table_row_but_no_cdf()
    {
        using var temp = new TempFolder();
        var runs = fixture.Runs.Select(run => run with { Result = run.Result with { Outcomes = null } }).ToArray();

        var written = SimulationReport.Write(temp.Path, runs, []);
        var summary = File.ReadAllText(Path.Combine(temp.Path, SimulationReport.SummaryFile));

        Assert.Equal([SimulationReport.SummaryFile], written.Select(Path.GetFileName));
        Assert.Contains("per-request outcomes", summary, StringComparison.Ordinal);
        Assert.Contains($"| {runs[0].Label} |", summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_under_a_file_gives_a_strata_error_naming_the_path()
    {
        using var file = new TempFile("not a folder", ".txt");
        var folder = Path.Combine(file.Path, "report");

        var error = Assert.Throws<StrataException>(() => SimulationReport.Write(folder, fixture.Runs, fixture.Sweep));

        Assert.Contains(folder, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_label_with_a_pipe_does_not_break_the_table()
    {
        using var temp = new TempFolder();
        var runs = new[] { new ReportRun("a|b", fixture.Runs[0].Result with { Outcomes = null }) };

        SimulationReport.Write(temp.Path, runs, []);
        var summary = File.ReadAllText(Path.Combine(temp.Path, SimulationReport.SummaryFile));

        Assert.Contains(@"| a\|b |", summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Latencies_spanning_many_decades_and_many_requests_still_chart()
    {
        using var temp = new TempFolder();
        var outcomes = Enumerable.Range(0, 20_000)
            .Select(i => new RequestOutcome(i, i % 10 != 0, 1e-3 * Math.Pow(10, 5.0 * i / 20_000), 1 + i * 1e-3, 0, 0))
            .ToArray();
        var runs = new[] { new ReportRun("wide", fixture.Runs[0].Result with { Outcomes = outcomes }), fixture.Runs[1] };

        var written = SimulationReport.Write(temp.Path, runs, []);

        var ttft = File.ReadAllBytes(written[0]);
        Assert.True(ttft.AsSpan().StartsWith(PngSignature) && ttft.Length > 5 * 1024, $"{written[0]} is not a drawn PNG ({ttft.Length} bytes)");
    }

    [Fact]
    public void Cdf_points_rise_from_zero_to_one_and_are_thinned_to_the_cap()
    {
        var values = Enumerable.Range(1, 10_000).Select(i => (double)(10_001 - i)).Append(double.NaN).ToArray();

        var (xs, ys) = EmpiricalCdf.Of(values, maxPoints: 100);

        Assert.Equal(101, xs.Length);
        Assert.Equal((1.0, 0.0), (xs[0], ys[0]));
        Assert.Equal((10_000.0, 1.0), (xs[^1], ys[^1]));
        for (var i = 1; i < xs.Length; i++)
        {
            Assert.True(xs[i] >= xs[i - 1] && ys[i] > ys[i - 1], $"point {i} ({xs[i]}, {ys[i]}) does not rise from ({xs[i - 1]}, {ys[i - 1]})");
            Assert.Equal(xs[i] / 10_000, ys[i], 12);
        }
    }

    [Fact]
    public void Cdf_of_few_values_keeps_every_value()
    {
        var (xs, ys) = EmpiricalCdf.Of([3.0, 1.0, 2.0]);

        Assert.Equal([1.0, 1.0, 2.0, 3.0], xs);
        Assert.Equal([0.0, 1.0 / 3, 2.0 / 3, 1.0], ys);
    }

    [Fact]
    public void Fixture_runs_kept_their_outcomes()
    {
        Assert.All(fixture.Runs, run => Assert.Equal(run.Result.Requests, run.Result.Outcomes?.Count ?? -1));
        Assert.All(fixture.Runs, run => Assert.Contains(run.Result.Outcomes!, (RequestOutcome outcome) => outcome.Completed));
    }
}
