using System.CommandLine;
using System.Globalization;
using Strata.Cli.Output;
using Strata.Runtime.Profiling;

namespace Strata.Cli.Commands;

/// <summary><c>strata profile runtime</c>: measure Strata's own CPU runtime on this machine into a device profile.</summary>
internal static class ProfileCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Option<string>("--model") { Description = "Model folder: config.json + *.safetensors.", Required = true, HelpName = "dir" };
        var output = new Option<string>("--out") { Description = "Where to write the profile (JSON), read back with --device-profile.", Required = true, HelpName = "file" };
        var repetitions = new Option<int>("--repetitions") { Description = "Timed runs per point; the median is kept.", DefaultValueFactory = _ => new RuntimeProfilerOptions().Repetitions, HelpName = "n" };
        var warmup = new Option<int>("--warmup") { Description = "Untimed runs of each call first (JIT tier-up, warm caches).", DefaultValueFactory = _ => new RuntimeProfilerOptions().WarmupIterations, HelpName = "n" };
        var json = new Option<bool>("--json") { Description = "Print the profile as JSON too." };
        var runtime = new Command("runtime", "Measure the CPU runtime: per-block prefill time by prompt tokens, per-block decode time by context, head time, one gRPC hop's overhead, and the slowdown of concurrent sessions.")
        {
            model, output, repetitions, warmup, json,
        };
        runtime.SetAction(async (parseResult, cancellationToken) =>
        {
            var options = new RuntimeProfilerOptions { Repetitions = parseResult.GetValue(repetitions), WarmupIterations = parseResult.GetValue(warmup) }.Validate();
            var path = parseResult.GetValue(output)!;
            var profile = await RuntimeProfiler.MeasureAsync(parseResult.GetValue(model)!, options, s => context.Error.WriteLine($"profiling: {s}"), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            try
            {
                profile.Save(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new Core.StrataException($"Cannot write the profile to '{path}': {e.Message}");
            }

            if (parseResult.GetValue(json))
            {
                Json.Write(context.Output, profile);
                return 0;
            }

            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Wrote {path}: decode {profile.DecodeSecondsPerBlock[0].Value * 1e3:F3} ms per block at {profile.DecodeSecondsPerBlock[0].Size} tokens of context, prefill {profile.PrefillSecondsPerBlock[^1].Value * 1e3:F3} ms per block for {profile.PrefillSecondsPerBlock[^1].Size} tokens, head {profile.HeadDecodeSeconds * 1e3:F3} ms, gRPC hop {profile.HopOverheadSeconds * 1e3:F3} ms; medians of {profile.Repetitions} runs after {profile.WarmupIterations} warm-up runs."));
            return 0;
        });
        return new Command("profile", "Measure this machine.") { runtime };
    }
}
