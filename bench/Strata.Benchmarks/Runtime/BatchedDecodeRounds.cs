using System.Diagnostics;
using System.Globalization;
using Strata.Runtime.Weights.Gguf;

namespace Strata.Benchmarks.Runtime;

/// <summary>
/// The setups of <see cref="BatchedDecodeBenchmarks"/> timed in alternating rounds (one session and eight batched through
/// the default server, the same through a server batching by the window alone, eight unbatched, again and again), so that a machine whose load drifts during the run slows every case alike and the
/// ratios of each round stay fair: <c>dotnet run -c Release --project bench/Strata.Benchmarks -- batched-decode [rounds] [steps]</c>.
/// </summary>
internal static class BatchedDecodeRounds
{
    public static async Task RunAsync(int rounds, int steps, GgmlType weights, TextWriter output)
    {
        var bench = new BatchedDecodeBenchmarks { Weights = weights };
        bench.Setup();
        try
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"small preset, 12 blocks {weights}, {BatchedDecodeBenchmarks.ContextTokens}-token contexts, {Environment.ProcessorCount} cores, {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated switch { true => "AVX-512", false => "256-bit" }}, TieredCompilation={Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") ?? "default"}"));
            // window-only/one: the window-only server's eight sessions over one session through that same server.
            output.WriteLine("round  one tok/s  eight-batched tok/s  window-only tok/s  unbatched tok/s  batched/one  window-only/one  unbatched/one  rows/step  window-only rows/step");
            var ratios = new List<double>();
            var windowRatios = new List<double>();
            var unbatchedRatios = new List<double>();
            var rowsPerStep = new List<double>();
            var windowRowsPerStep = new List<double>();
            var overWindow = new List<double>();
            for (var round = -2; round < rounds; round++) // two warm-up rounds first
            {
                var one = await RateAsync(steps, 1, bench.OneSession);
                var (batched, rows) = await ServerRateAsync(steps, bench, windowOnly: false, bench.EightSessionsBatched);
                var oneWindowOnly = await RateAsync(steps, 1, bench.OneSessionWindowOnly); // the same pattern as the default server sees
                var (windowOnly, windowRows) = await ServerRateAsync(steps, bench, windowOnly: true, bench.EightSessionsWindowOnly);
                var unbatched = await RateAsync(steps, BatchedDecodeBenchmarks.Sessions, bench.EightSessionsUnbatched);
                if (round < 0)
                {
                    continue;
                }

                ratios.Add(batched / one);
                windowRatios.Add(windowOnly / oneWindowOnly);
                unbatchedRatios.Add(unbatched / one);
                rowsPerStep.Add(rows);
                windowRowsPerStep.Add(windowRows);
                overWindow.Add(batched / windowOnly);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{round,5}  {one,9:F1}  {batched,19:F1}  {windowOnly,17:F1}  {unbatched,15:F1}  {batched / one,11:F2}  {windowOnly / oneWindowOnly,15:F2}  {unbatched / one,13:F2}  {rows,9:F2}  {windowRows,21:F2}"));
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"median batched/one {Median(ratios):F2} (min {ratios.Min():F2}, max {ratios.Max():F2}); window-only/one {Median(windowRatios):F2} (min {windowRatios.Min():F2}, max {windowRatios.Max():F2}); unbatched/one {Median(unbatchedRatios):F2}"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"eight sessions' rows per step: batched mean {rowsPerStep.Average():F2} (min {rowsPerStep.Min():F2}), window-only mean {windowRowsPerStep.Average():F2} (min {windowRowsPerStep.Min():F2}); eight-batched tok/s over window-only, median {Median(overWindow):F2}"));

            // The engine alone, same alternation: one session's step against one ForwardDecodeBatch of eight.
            var engineRatios = new List<double>();
            for (var round = -2; round < rounds; round++)
            {
                var one = await RateAsync(steps, 1, () => { bench.InProcessOneSession(); return Task.CompletedTask; });
                var eight = await RateAsync(steps, BatchedDecodeBenchmarks.Sessions, () => { bench.InProcessEightBatched(); return Task.CompletedTask; });
                if (round >= 0)
                {
                    engineRatios.Add(eight / one);
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"in process {round,3}  one {one,7:F1} tok/s  eight batched {eight,7:F1} tok/s  ratio {eight / one:F2}"));
                }
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"in process: median eight-batched/one {Median(engineRatios):F2}"));

            // The engine's batch-size sweep, alternating sizes within each round: tokens/s of one step of n sessions.
            int[] sizes = [1, 2, 4, 6, 8, 12];
            var rates = sizes.ToDictionary(n => n, _ => new List<double>());
            for (var round = -1; round < rounds; round++)
            {
                foreach (var n in sizes)
                {
                    var rate = await RateAsync(steps, n, () => { bench.InProcessBatch(n); return Task.CompletedTask; });
                    if (round >= 0)
                    {
                        rates[n].Add(rate);
                    }
                }
            }

            output.WriteLine("in process, batch size: median tok/s (over batch 1)");
            foreach (var n in sizes)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{n,4}: {Median(rates[n]),7:F1} ({Median(rates[n]) / Median(rates[1]):F2}x)"));
            }
        }
        finally
        {
            bench.Cleanup();
        }
    }

    // The eight sessions' rate through a batching server, and the mean rows of the steps that server ran meanwhile.
    private static async Task<(double Rate, double RowsPerStep)> ServerRateAsync(int steps, BatchedDecodeBenchmarks bench, bool windowOnly, Func<Task> step)
    {
        var (stepsBefore, tokensBefore) = bench.BatchingServerSteps(windowOnly);
        var rate = await RateAsync(steps, BatchedDecodeBenchmarks.Sessions, step);
        var (stepsAfter, tokensAfter) = bench.BatchingServerSteps(windowOnly);
        return (rate, (tokensAfter - tokensBefore) / (stepsAfter - stepsBefore));
    }

    private static async Task<double> RateAsync(int steps, int tokensPerStep, Func<Task> step)
    {
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < steps; i++)
        {
            await step();
        }

        return steps * tokensPerStep / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
