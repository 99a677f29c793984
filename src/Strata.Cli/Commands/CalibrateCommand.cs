using System.CommandLine;
using Spectre.Console;
using Strata.Cli.Output;
using Strata.Performance.Calibration;
using Strata.Performance.Operators;
using Strata.Performance.Profiles;

namespace Strata.Cli.Commands;

/// <summary><c>strata calibrate</c>: fit the roofline to measured timings and score it on held-out ones.</summary>
internal static class CalibrateCommand
{
    public static Command Create(CliContext context)
    {
        var csv = new Option<string?>("--profile-csv") { Description = "Measured timings (Splitwise perf_model.csv columns). Default: the built-in Splitwise measurements.", HelpName = "file" };
        var holdout = new Option<string>("--holdout")
        {
            Description = "A fraction (share of each Splitwise deployment's configurations held out, e.g. 0.2), or 'model', 'tp' or 'gpu': "
                + "fit the per-device operator model on the Vidur profiles without one model, tensor-parallel degree or GPU and predict it.",
            DefaultValueFactory = _ => "0.2",
            HelpName = "fraction|model|tp|gpu",
        };
        var operatorCsv = new Option<string?>("--operator-csv") { Description = "Operator profiles (Vidur columns, see docs/performance-model.md) for --holdout model|tp|gpu. Default: the built-in Vidur profiles.", HelpName = "file" };
        var seed = new Option<int>("--seed") { Description = "Seed of the hold-out split.", DefaultValueFactory = _ => 42, HelpName = "n" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables." };
        var command = new Command("calibrate", "Fit the roofline to measured timings per deployment and score it on held-out configurations; or (--holdout model|tp|gpu) score the per-device operator model on a model, TP degree or GPU it was not fitted to.")
        {
            csv, holdout, operatorCsv, seed, json,
        };
        command.SetAction(parseResult =>
        {
            var holdoutText = parseResult.GetValue(holdout)!.Trim();
            if (CrossModelMode(holdoutText) is { } mode)
            {
                return CrossModel(context, parseResult, mode, parseResult.GetValue(operatorCsv), parseResult.GetValue(json));
            }

            if (!double.TryParse(holdoutText, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var fraction))
            {
                throw new Strata.Core.StrataException($"--holdout is '{holdoutText}'; expected a fraction in (0, 1) or one of model, tp, gpu.");
            }

            var path = parseResult.GetValue(csv);
            var table = path is null ? ProfileTable.BuiltIn : ProfileTable.Load(path);
            var catalog = context.Catalog(parseResult);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            HoldoutValidation result;
            if (parseResult.GetValue(json))
            {
                result = HoldoutValidation.Run(table, catalog, fraction, parseResult.GetValue(seed));
                Json.Write(context.Output, new
                {
                    source = table.Origin,
                    holdoutFraction = result.HoldoutFraction,
                    seed = result.Seed,
                    promptTime = result.PromptTime,
                    tokenTime = result.TokenTime,
                    excluded = result.Excluded,
                    medianOfFullFits = CalibrationMedian.Derive(table, catalog),
                    builtInDefault = Strata.Performance.Roofline.RooflineCalibration.Default,
                    deployments = result.Deployments.Select(d => new
                    {
                        deployment = d.Key.ToString(),
                        calibration = d.Calibration,
                        d.TrainRmsLogError,
                        d.TrainConfigurations,
                        d.TestConfigurations,
                        promptTime = d.PromptTime,
                        tokenTime = d.TokenTime,
                    }),
                    wallSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds,
                });
                return 0;
            }

            result = context.Console.Status().Start("Fitting the roofline to each measured deployment...", _ =>
                HoldoutValidation.Run(table, catalog, fraction, parseResult.GetValue(seed)));
            Render(context.Console, table, result);
            return 0;
        });
        return command;
    }

    private static CrossModelHoldout? CrossModelMode(string text) => text.ToLowerInvariant() switch
    {
        "model" => CrossModelHoldout.Model,
        "tp" => CrossModelHoldout.TensorParallel,
        "gpu" => CrossModelHoldout.Gpu,
        _ => null,
    };

    private static int CrossModel(CliContext context, ParseResult parseResult, CrossModelHoldout mode, string? path, bool json)
    {
        var table = path is null ? OperatorProfileTable.BuiltIn : OperatorProfileTable.Load(path);
        var catalog = context.Catalog(parseResult);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = json
            ? CrossModelValidation.Run(table, catalog, mode)
            : context.Console.Status().Start("Fitting the per-device operator model without each held-out group...", _ => CrossModelValidation.Run(table, catalog, mode));
        var endToEnd = mode == CrossModelHoldout.Model && path is null ? EndToEndValidation.Run(ProfileTable.BuiltIn, catalog) : null;
        var fits = table.Gpus.Where(gpu => ProfiledDevices.Gpus.Contains(gpu)).Select(gpu => DeviceFitter.Fit(table.RowsOn(gpu), ProfiledDevices.Rates(gpu, catalog))).ToArray();
        if (json)
        {
            Json.Write(context.Output, new
            {
                source = table.Origin,
                holdout = mode switch { CrossModelHoldout.Model => "model", CrossModelHoldout.TensorParallel => "tp", _ => "gpu" },
                quantity = "sum of a layer's profiled operators per tensor-parallel shard; prefill 512-4096 tokens, decode 1-64 tokens",
                perGpu = result.PerGpu().Select(g => new { gpu = g.Gpu, prefillMedianOfMediansPercent = g.PrefillMedianPercent, prefillWorstP90Percent = g.PrefillWorstP90Percent, decodeMedianOfMediansPercent = g.DecodeMedianPercent, decodeWorstP90Percent = g.DecodeWorstP90Percent }),
                heldOut = result.Scores.Select(s => new { gpu = s.Gpu, heldOut = s.HeldOut, fittedOn = s.FittedOn, trainRmsLogError = s.TrainRmsLogError, prefill = s.Prefill, decode = s.Decode }),
                endToEnd = endToEnd?.Scores.Select(s => new { device = s.Gpu, heldOut = s.HeldOut, fittedOn = s.FittedOn, trainRmsLogError = s.TrainRmsLogError, promptTime = s.Prefill, tokenTime = s.Decode }),
                fullFits = fits.Select(f => new { gpu = f.Gpu, parameters = f.Parameters, rmsLogError = f.RmsLogError, samples = f.Samples, models = f.Models }),
                wallSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds,
            });
            return 0;
        }

        var title = mode switch
        {
            CrossModelHoldout.Model => "Leave one model out",
            CrossModelHoldout.TensorParallel => "Leave one tensor-parallel degree out",
            _ => "Leave one GPU out (the other GPU's parameters, relative to datasheet peaks)",
        };
        var scores = ScoreTable($"[bold]{title}[/]: error of the per-layer operator sum (prefill 512-4,096 tokens, decode 1-64)", "GPU", "Prefill", "Decode", result.Scores);
        context.Console.Write(scores);
        var parameters = new Table().Border(TableBorder.Rounded).Title("[bold]Device parameters[/] fitted on every profiled model")
            .AddColumn("GPU").AddColumn(R("GEMM eff.")).AddColumn(R("M half")).AddColumn(R("N half")).AddColumn(R("K half")).AddColumn(R("GEMM mem. eff."))
            .AddColumn(R("GEMM launch")).AddColumn(R("Blend q")).AddColumn(R("Elementwise mem. eff.")).AddColumn(R("Elementwise launch")).AddColumn(R("RMS log err."));
        foreach (var f in fits)
        {
            var p = f.Parameters;
            parameters.AddRow(f.Gpu, $"{p.GemmPeakEfficiency:F2}", $"{p.GemmHalfRows:F0}", $"{p.GemmHalfColumns:F0}", $"{p.GemmHalfDepth:F0}", $"{p.GemmMemoryEfficiency:F2}",
                Units.Seconds(p.GemmLaunchSeconds), $"{p.GemmBlendExponent:F1}", $"{p.ElementwiseMemoryEfficiency:F2}", Units.Seconds(p.ElementwiseLaunchSeconds), $"{f.RmsLogError:F3}");
        }

        context.Console.Write(parameters);
        if (endToEnd is not null)
        {
            var e2e = ScoreTable("[bold]End to end, leave one model out[/]: Splitwise times with the serving overhead fitted on the other model",
                "Device", "Prompt", "Token", endToEnd.Scores);
            context.Console.Write(e2e);
        }

        context.Console.MarkupLine($"[grey]Source: {Markup.Escape(table.Origin)}.[/]");
        return 0;
    }

    private static void Render(IAnsiConsole console, ProfileTable source, HoldoutValidation result)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]Roofline calibration[/]: {result.HoldoutFraction:P0} of configurations held out (seed {result.Seed})")
            .AddColumn("Deployment").AddColumn(R("Compute eff.")).AddColumn(R("Memory eff.")).AddColumn(R("Step overhead")).AddColumn(R("Per-sequence"))
            .AddColumn(R("Large-batch loss")).AddColumn(R("Knee tokens")).AddColumn(R("Prompt MdAPE")).AddColumn(R("Token MdAPE"));
        foreach (var d in result.Deployments)
        {
            var c = d.Calibration;
            table.AddRow(d.Key.ToString(), $"{c.ComputeEfficiency:F2}", $"{c.MemoryEfficiency:F2}", Units.Seconds(c.StepOverheadSeconds), Units.Seconds(c.SequenceOverheadSeconds),
                $"{c.LargeBatchPenalty:F2}", $"{c.LargeBatchKneeTokens:F0}", Units.Percent(d.PromptTime.MedianPercent), Units.Percent(d.TokenTime.MedianPercent));
        }

        console.Write(table);
        var summary = new Table().Border(TableBorder.Rounded).Title("[bold]Held-out error[/] (absolute percentage)")
            .AddColumn("Quantity").AddColumn(R("Predictions")).AddColumn(R("Median")).AddColumn(R("P90")).AddColumn(R("Max"));
        foreach (var (name, e) in new[] { ("prompt_time (prefill)", result.PromptTime), ("token_time (decode step)", result.TokenTime) })
        {
            summary.AddRow(name, e.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), Units.Percent(e.MedianPercent), Units.Percent(e.P90Percent), Units.Percent(e.MaxPercent));
        }

        console.Write(summary);
        console.MarkupLine($"[grey]Source: {Markup.Escape(source.Origin)}.[/]");
        foreach (var excluded in result.Excluded)
        {
            console.MarkupLine($"[grey]Excluded: {Markup.Escape(excluded)}.[/]");
        }
    }

    private static TableColumn R(string header) => new TableColumn(header).RightAligned();

    /// <summary>One row per held-out group: median, P90 and max error of the prefill (prompt) and decode (token) times.</summary>
    private static Table ScoreTable(string title, string groupHeader, string prefillHeader, string decodeHeader, IReadOnlyList<HeldOutScore> scores)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(title)
            .AddColumn(groupHeader).AddColumn("Held out").AddColumn(R($"{prefillHeader} median")).AddColumn(R("P90")).AddColumn(R("Max"))
            .AddColumn(R($"{decodeHeader} median")).AddColumn(R("P90")).AddColumn(R("Max"));
        foreach (var s in scores)
        {
            table.AddRow(s.Gpu, Markup.Escape(s.HeldOut), Units.Percent(s.Prefill.MedianPercent), Units.Percent(s.Prefill.P90Percent), Units.Percent(s.Prefill.MaxPercent),
                Units.Percent(s.Decode.MedianPercent), Units.Percent(s.Decode.P90Percent), Units.Percent(s.Decode.MaxPercent));
        }

        return table;
    }
}
