using System.CommandLine;
using Spectre.Console;
using Strata.Cli.Output;
using Strata.Core.Models;
using Strata.Performance.Estimation;

namespace Strata.Cli.Commands;

/// <summary><c>strata estimate</c>: what a batch of requests costs on given hardware, when it runs alone.</summary>
internal static class EstimateCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Option<string>("--model") { Description = "Model: a catalog id (see 'strata catalog models') or a path to a Hugging Face config.json.", Required = true, HelpName = "id" };
        var gpu = new Option<string>("--gpu") { Description = "Device or machine: a catalog id such as a100-80gb or dgx-h100, or NxDEVICE such as 4xl4.", Required = true, HelpName = "id" };
        var tp = new Option<int?>("--tp") { Description = "Tensor-parallel degree (devices). Default: the machine's device count, 1 for a single device.", HelpName = "n" };
        var precision = new Option<string?>("--precision") { Description = $"Weight precision: {PrecisionInfo.AcceptedNames}. Default: the model's own.", HelpName = "p" };
        var prompt = new Option<int>("--prompt") { Description = "Prompt tokens per request.", Required = true, HelpName = "tokens" };
        var output = new Option<int>("--output") { Description = "Output tokens per request.", Required = true, HelpName = "tokens" };
        var batch = new Option<int>("--batch") { Description = "Requests run together.", DefaultValueFactory = _ => 1, HelpName = "n" };
        var profile = new Option<string>("--profile") { Description = "Performance model: roofline (calibrated to measurements where they exist) or measured (interpolated measurements).", DefaultValueFactory = _ => "roofline", HelpName = "kind" };
        profile.AcceptOnlyFromAmong("roofline", "measured");
        var profileCsv = new Option<string?>("--profile-csv") { Description = "Measured timings (Splitwise perf_model.csv columns) to use instead of the built-in ones.", HelpName = "file" };
        var utilization = new Option<double>("--memory-utilization") { Description = "Share of device memory usable for weights and KV cache.", DefaultValueFactory = _ => 0.9, HelpName = "fraction" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };

        var command = new Command("estimate", "Predict TTFT, time between tokens, end-to-end time and memory of a batch of requests on given hardware.")
        {
            model, gpu, tp, precision, prompt, output, batch, profile, profileCsv, utilization, json,
        };
        command.SetAction(parseResult =>
        {
            var options = new EstimateOptions
            {
                Model = parseResult.GetValue(model)!,
                Gpu = parseResult.GetValue(gpu)!,
                TensorParallel = parseResult.GetValue(tp),
                Precision = parseResult.GetValue(precision) is { } p ? PrecisionInfo.Parse(p, "--precision") : null,
                PromptTokens = parseResult.GetValue(prompt),
                OutputTokens = parseResult.GetValue(output),
                Batch = parseResult.GetValue(batch),
                Profile = parseResult.GetValue(profile) == "measured" ? PerformanceProfile.Measured : PerformanceProfile.Roofline,
                ProfileCsv = parseResult.GetValue(profileCsv),
                MemoryUtilization = parseResult.GetValue(utilization),
            };
            var result = EstimateService.Run(options, context.Catalog(parseResult));
            if (parseResult.GetValue(json))
            {
                Json.Write(context.Output, ToJson(result));
            }
            else
            {
                Render(context.Console, result);
            }

            return 0;
        });
        return command;
    }

    internal static object ToJson(EstimateResult result)
    {
        var e = result.Estimate;
        var d = result.Deployment;
        return new
        {
            model = d.Model.Id.Value,
            device = d.Device.Id.Value,
            tensorParallel = d.TensorParallel,
            precision = PrecisionInfo.Name(d.Precision),
            profile = result.Profile,
            calibration = result.CalibrationSource,
            performanceModel = result.ModelName,
            pricedBy = result.PricedBy,
            expectedError = result.ExpectedError,
            promptTokens = result.Options.PromptTokens,
            outputTokens = result.Options.OutputTokens,
            batch = result.Options.Batch,
            ttftSeconds = e.TtftSeconds,
            tbtSeconds = e.TbtSeconds,
            firstTbtSeconds = e.FirstTbtSeconds,
            lastTbtSeconds = e.LastTbtSeconds,
            e2eSeconds = e.E2eSeconds,
            throughputTokensPerSecond = e.ThroughputTokensPerSecond,
            weightsBytes = e.WeightsBytes,
            weightsBytesPerDevice = e.WeightsBytesPerDevice,
            kvBytesPerToken = e.KvBytesPerToken,
            kvBytesForBatch = e.KvBytesForBatch,
            usableMemoryBytes = e.UsableMemoryBytes,
            fits = e.Fits,
            maxBatch = e.MaxBatch,
        };
    }

    private static string Describe(Strata.Performance.Calibration.ExpectedError e) => DeploymentExpectedError.Describe(e);

    private static void Render(IAnsiConsole console, EstimateResult result)
    {
        var e = result.Estimate;
        var d = result.Deployment;
        var o = result.Options;
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]{Markup.Escape(d.Model.Name)}[/] on {d.TensorParallel} x {Markup.Escape(d.Device.Name)} ({PrecisionInfo.Name(d.Precision)})")
            .AddColumn("Quantity").AddColumn(new TableColumn("Value").RightAligned());
        table.AddRow("Requests", $"{o.Batch} x ({o.PromptTokens} prompt + {o.OutputTokens} output tokens)");
        table.AddRow("Time to first token (TTFT)", Units.Seconds(e.TtftSeconds));
        table.AddRow("Time between tokens (mean)", Units.Seconds(e.TbtSeconds));
        table.AddRow("  first / last decode step", $"{Units.Seconds(e.FirstTbtSeconds)} / {Units.Seconds(e.LastTbtSeconds)}");
        table.AddRow("End-to-end", Units.Seconds(e.E2eSeconds));
        table.AddRow("Output throughput", Units.Rate(e.ThroughputTokensPerSecond, "tokens"));
        table.AddRow("Weights (total / per device)", $"{Units.Bytes(e.WeightsBytes)} / {Units.Bytes(e.WeightsBytesPerDevice)}");
        table.AddRow("KV cache per token", Units.Bytes(e.KvBytesPerToken));
        table.AddRow("KV cache of the batch", Units.Bytes(e.KvBytesForBatch));
        table.AddRow("Usable memory", Units.Bytes(e.UsableMemoryBytes));
        table.AddRow("Fits", e.Fits ? "[green]yes[/]" : "[red]no[/]");
        table.AddRow("Largest batch that fits", e.MaxBatch.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (result.ExpectedError is { } expected)
        {
            if (expected.Operators is { } operators)
            {
                table.AddRow("Expected error: operators", Markup.Escape(Describe(operators)));
            }

            table.AddRow("Expected error: end to end", Markup.Escape(Describe(expected.EndToEnd)));
            if (expected.Note is { } note)
            {
                table.AddRow("Not validated", Markup.Escape(note));
            }
        }
        else
        {
            table.AddRow("Expected error", "not scored (interpolation of this deployment's own measurements)");
        }

        table.Caption($"Priced by {Markup.Escape(result.PricedBy)} ({Markup.Escape(result.ModelName)} model): {Markup.Escape(result.CalibrationSource)}");
        console.Write(table);
    }
}
