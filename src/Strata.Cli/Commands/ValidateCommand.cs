using System.CommandLine;
using System.Globalization;
using Strata.Cli.Output;
using Strata.Cli.Validation;
using Strata.Performance.Profiles;
using Strata.Runtime.Profiling;
using Strata.Runtime.Weights;

namespace Strata.Cli.Commands;

/// <summary><c>strata validate sim-to-real</c>: does what Strata predicts match what its runtime does on this machine?</summary>
internal static class ValidateCommand
{
    public static Command Create(CliContext context)
    {
        var preset = new Option<string>("--preset") { Description = "Model shape: tiny (fast) or small (about 100 M parameters).", DefaultValueFactory = _ => "small", HelpName = "tiny|small" };
        preset.AcceptOnlyFromAmong([.. ModelPreset.All.Select(p => p.Name)]);
        var rtts = new Option<string>("--rtt-ms") { Description = "Emulated round trips, one cluster each, comma-separated.", DefaultValueFactory = _ => "0,20,50", HelpName = "list" };
        var concurrency = new Option<string>("--concurrency") { Description = "Sessions at once per case, comma-separated.", DefaultValueFactory = _ => "1,4", HelpName = "list" };
        var prompt = new Option<int>("--prompt-tokens") { Description = "Prompt tokens per generation.", DefaultValueFactory = _ => 16, HelpName = "n" };
        var output = new Option<int>("--output-tokens") { Description = "Tokens generated per generation.", DefaultValueFactory = _ => 32, HelpName = "n" };
        var runs = new Option<int>("--runs") { Description = "Real runs per case; each measured value is their median.", DefaultValueFactory = _ => 3, HelpName = "n" };
        var repetitions = new Option<int>("--repetitions") { Description = "Profile repetitions per point.", DefaultValueFactory = _ => new RuntimeProfilerOptions().Repetitions, HelpName = "n" };
        var noRefresh = new Option<bool>("--no-refresh")
        {
            Description = "Predict every case from the first profile alone, instead of measuring its absolute costs (prefill, decode, head, hop, session opening) again just before each case's runs and predicting from the median of every measurement so far.",
        };
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var simToReal = new Command("sim-to-real", "Start a loopback cluster (coordinator, block servers with emulated round trips, one range replicated), profile the runtime, predict, run real generations alone and concurrently, and print predicted vs measured TTFT, TPOT and E2E.")
        {
            preset, rtts, concurrency, prompt, output, runs, repetitions, noRefresh, json,
        };
        simToReal.SetAction(async (parseResult, cancellationToken) =>
        {
            var rttList = Parse(parseResult.GetValue(rtts)!, "--rtt-ms", 0, 10_000);
            var concurrencyList = Parse(parseResult.GetValue(concurrency)!, "--concurrency", 1, 32).Select(c => (int)c).ToArray();
            var (p, n) = (parseResult.GetValue(prompt), parseResult.GetValue(output));
            if (p is < 1 or > 512 || n is < 2 or > 512)
            {
                throw new Core.StrataException($"--prompt-tokens is {p} and --output-tokens {n}; expected 1 to 512 and 2 to 512.");
            }

            var runsPerCase = parseResult.GetValue(runs);
            if (runsPerCase is < 1 or > 100)
            {
                throw new Core.StrataException($"--runs is {runsPerCase}; expected 1 to 100.");
            }

            var loadBefore = LoadAverage();
            var (profile, cases) = await SimToReal.RunAsync(ModelPreset.ByName(parseResult.GetValue(preset)!), rttList, concurrencyList, p, n, runsPerCase,
                new RuntimeProfilerOptions { Repetitions = parseResult.GetValue(repetitions) }.Validate(), !parseResult.GetValue(noRefresh), parseResult.GetValue(json) ? _ => { } : s => context.Error.WriteLine($"sim-to-real: {s}"), cancellationToken)
                .ConfigureAwait(false);
            var loadAfter = LoadAverage();
            var errors = cases.SelectMany(c => c.Errors).Select(Math.Abs).Order().ToArray();
            var median = errors.Length == 0 ? 0 : Samples.Median(errors);
            var max = errors.Length == 0 ? 0 : errors[^1];
            if (parseResult.GetValue(json))
            {
                Json.Write(context.Output, new
                {
                    preset = parseResult.GetValue(preset),
                    promptTokens = p,
                    outputTokens = n,
                    runsPerCase,
                    warmupGenerations = SimToReal.WarmupGenerations,
                    predictorModel = profile.HasBatchModel ? "batched servers, shared processors" : "concurrency slowdown",
                    loadAverageBefore = loadBefore,
                    loadAverageAfter = loadAfter,
                    cases = cases.Select(c => new
                    {
                        rttMs = c.RttMs, concurrency = c.Concurrency, route = c.Route,
                        predictedTtftSeconds = c.PredictedTtftSeconds, measuredTtftSeconds = c.MeasuredTtftSeconds, ttftError = c.Errors[0],
                        predictedTpotSeconds = c.PredictedTpotSeconds, measuredTpotSeconds = c.MeasuredTpotSeconds, tpotError = c.Errors[1],
                        predictedE2eSeconds = c.PredictedE2eSeconds, measuredE2eSeconds = c.MeasuredE2eSeconds, e2eError = c.Errors[2],
                        roundTripSeconds = c.RoundTripSeconds,
                        predictedBySlowdownModel = c.PredictedBySlowdown is { } old ? new { ttftSeconds = old.TtftSeconds, tpotSeconds = old.TpotSeconds, e2eSeconds = old.E2eSeconds } : null,
                        predictedByInitialProfile = c.PredictedByInitialProfile is { } first ? new { ttftSeconds = first.TtftSeconds, tpotSeconds = first.TpotSeconds, e2eSeconds = first.E2eSeconds } : null,
                        caseProfile = new
                        {
                            refreshed = c.PredictedByInitialProfile is not null,
                            measurements = c.ProfileMeasurements,
                            prefillSecondsPerBlock = c.CaseProfile.PrefillSeconds(p),
                            decodeSecondsPerBlock = c.CaseProfile.DecodeSeconds(p + (n / 2.0)),
                            headPrefillSeconds = c.CaseProfile.HeadPrefillSeconds,
                            headDecodeSeconds = c.CaseProfile.HeadDecodeSeconds,
                            hopOverheadSeconds = c.CaseProfile.HopOverheadSeconds,
                            sessionOpenSeconds = c.CaseProfile.SessionOpenSeconds,
                        },
                        runs = c.Runs.Select(r => new { ttftSeconds = r.TtftSeconds, tpotSeconds = r.TpotSeconds, e2eSeconds = r.E2eSeconds }),
                        decodeBatches = c.ServerBatches, // server, predictedSteps, predictedRowsPerStep, measuredStepsPerRun, measuredRowsPerStep
                    }),
                    medianAbsoluteError = median,
                    maxAbsoluteError = max,
                    profile,
                });
                return 0;
            }

            foreach (var c in cases)
            {
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"rtt {c.RttMs,4} ms x{c.Concurrency}: TTFT {c.PredictedTtftSeconds * 1e3,8:F1} / {c.MeasuredTtftSeconds * 1e3,8:F1} ms ({c.Errors[0],6:P0})  TPOT {c.PredictedTpotSeconds * 1e3,7:F1} / {c.MeasuredTpotSeconds * 1e3,7:F1} ms ({c.Errors[1],6:P0})  E2E {c.PredictedE2eSeconds * 1e3,8:F1} / {c.MeasuredE2eSeconds * 1e3,8:F1} ms ({c.Errors[2],6:P0})  via {c.Route}"));
            }

            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"median |error| {median:P1}, max {max:P1} (predicted / measured; measured = median of {runsPerCase} run(s), {n} output tokens; load average {loadBefore ?? "?"} before, {loadAfter ?? "?"} after)."));
            return 0;
        });
        return new Command("validate", "Check Strata's predictions against real runs.") { simToReal };
    }

    // The 1, 5 and 15 minute load averages where the OS tells them (Linux), so a reader can judge how shared the machine was.
    private static string? LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static double[] Parse(string text, string option, double min, double max)
    {
        var values = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max ? v : double.NaN).ToArray();
        return values.Length == 0 || values.Any(double.IsNaN)
            ? throw new Core.StrataException($"{option} is '{text}'; expected comma-separated numbers from {min} to {max}.")
            : values;
    }
}
