using System.Diagnostics;
using System.Globalization;
using Strata.Runtime.Weights.Gguf;

namespace Strata.Benchmarks.Runtime;

/// <summary>
/// The setups of <see cref="BatchedDecodeBenchmarks"/> timed in alternating rounds (one session, eight batched, eight
/// unbatched, again and again), so that a machine whose load drifts during the run slows every case alike and the
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
            output.WriteLine("round  one tok/s  eight-batched tok/s  eight-unbatched tok/s  batched/one  unbatched/one");
            var ratios = new List<double>();
            var unbatchedRatios = new List<double>();
            for (var round = -2; round < rounds; round++) // two warm-up rounds first
            {
                var one = await RateAsync(steps, 1, bench.OneSession);
                var batched = await RateAsync(steps, BatchedDecodeBenchmarks.Sessions, bench.EightSessionsBatched);
                var unbatched = await RateAsync(steps, BatchedDecodeBenchmarks.Sessions, bench.EightSessionsUnbatched);
                if (round < 0)
                {
                    continue;
                }

                ratios.Add(batched / one);
                unbatchedRatios.Add(unbatched / one);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{round,5}  {one,9:F1}  {batched,19:F1}  {unbatched,21:F1}  {batched / one,11:F2}  {unbatched / one,13:F2}"));
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"median batched/one {Median(ratios):F2} (min {ratios.Min():F2}, max {ratios.Max():F2}); median unbatched/one {Median(unbatchedRatios):F2}"));

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
