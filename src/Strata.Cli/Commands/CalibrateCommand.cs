using System.CommandLine;
using Spectre.Console;
using Strata.Cli.Output;
using Strata.Performance.Calibration;
using Strata.Performance.Profiles;

namespace Strata.Cli.Commands;

/// <summary><c>strata calibrate</c>: fit the roofline to measured timings and score it on held-out ones.</summary>
internal static class CalibrateCommand
{
    public static Command Create(CliContext context)
    {
        var csv = new Option<string?>("--profile-csv") { Description = "Measured timings (Splitwise perf_model.csv columns). Default: the built-in Splitwise measurements.", HelpName = "file" };
        var holdout = new Option<double>("--holdout") { Description = "Share of each deployment's measured configurations held out for scoring.", DefaultValueFactory = _ => 0.2, HelpName = "fraction" };
        var seed = new Option<int>("--seed") { Description = "Seed of the hold-out split.", DefaultValueFactory = _ => 42, HelpName = "n" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables." };
        var command = new Command("calibrate", "Fit the roofline's efficiency factors and overheads to measured timings per deployment, and report its error on held-out configurations.")
        {
            csv, holdout, seed, json,
        };
        command.SetAction(parseResult =>
        {
            var path = parseResult.GetValue(csv);
            var table = path is null ? ProfileTable.BuiltIn : ProfileTable.Load(path);
            var catalog = context.Catalog(parseResult);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            HoldoutValidation result;
            if (parseResult.GetValue(json))
            {
                result = HoldoutValidation.Run(table, catalog, parseResult.GetValue(holdout), parseResult.GetValue(seed));
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
                HoldoutValidation.Run(table, catalog, parseResult.GetValue(holdout), parseResult.GetValue(seed)));
            Render(context.Console, table, result);
            return 0;
        });
        return command;
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
}
