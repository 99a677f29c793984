using System.CommandLine;
using Spectre.Console;
using Strata.Cli.Output;
using Strata.Cli.Demo;
using Strata.Core;
using Strata.Performance.Estimation;
using Strata.Runtime.Weights;

namespace Strata.Cli.Commands;

/// <summary><c>strata demo</c>: the main job on built-in defaults, for a first look.</summary>
internal static class DemoCommand
{
    private static readonly (string Label, string Model, string Gpu, int Prompt, int Output)[] Cases =
    [
        ("Llama-2-70B, coding median (Splitwise Table IV)", "llama-2-70b", "dgx-a100", 1469, 13),
        ("Llama-2-70B, coding median (Splitwise Table IV)", "llama-2-70b", "dgx-h100", 1469, 13),
        ("Llama-2-70B, conversation median (Table IV)", "llama-2-70b", "dgx-a100", 1020, 129),
        ("Llama-2-70B, conversation median (Table IV)", "llama-2-70b", "dgx-h100", 1020, 129),
        ("Llama-2-7B chat turn", "llama-2-7b", "a100-80gb", 1020, 129),
        ("Llama-2-7B chat turn", "llama-2-7b", "l4", 1020, 129),
        ("Llama-3-8B chat turn", "llama-3-8b", "rtx-4090", 1020, 129),
        ("Mistral-7B in 4 bit on a laptop", "mistral-7b", "laptop-core-i7-13700h", 256, 64),
    ];

    public static Command Create(CliContext context)
    {
        var preset = new Option<string>("--preset") { Description = "Random model the cluster serves: tiny (4 blocks) or small (12 blocks, about 100 M parameters).", DefaultValueFactory = _ => "tiny", HelpName = "name" };
        preset.AcceptOnlyFromAmong("tiny", "small");
        var requests = new Option<int>("--requests") { Description = "Requests per inference path, run concurrently.", DefaultValueFactory = _ => 4, HelpName = "n" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens generated per request.", DefaultValueFactory = _ => 24, HelpName = "n" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the model's weights.", DefaultValueFactory = _ => 1UL, HelpName = "n" };
        var noFailover = new Option<bool>("--no-failover") { Description = "Skip killing a block server mid-generation." };
        var estimatesOnly = new Option<bool>("--estimates-only") { Description = "Only the estimates table; start no processes." };
        var command = new Command("demo", "The main job on built-in defaults: estimates for common deployments, then a real local cluster (coordinator, block servers with prefill/decode roles, OpenAI gateway) running the swarm, split and phase-split paths, each output checked against the local reference.")
        {
            preset, requests, maxTokens, seed, noFailover, estimatesOnly,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var catalog = context.Catalog(parseResult);
            var console = context.Console;
            var demo = new RuntimeDemoOptions
            {
                Preset = ModelPreset.ByName(parseResult.GetValue(preset)!),
                Requests = parseResult.GetValue(requests),
                MaxTokens = parseResult.GetValue(maxTokens),
                Seed = parseResult.GetValue(seed),
                Failover = !parseResult.GetValue(noFailover),
            }.Validate();
            console.Write(new Rule("[bold]Strata[/]: LLM inference split across devices, servers and phases").LeftJustified());
            var table = new Table().Border(TableBorder.Rounded).Title("[bold]Estimates[/]: one request alone on the deployment")
                .AddColumn("Case").AddColumn("Deployment").AddColumn(R("Prompt / output")).AddColumn(R("TTFT")).AddColumn(R("TBT")).AddColumn(R("E2E"))
                .AddColumn(R("Weights")).AddColumn(R("Max batch")).AddColumn("Model");
            foreach (var c in Cases)
            {
                var options = new EstimateOptions
                {
                    Model = c.Model,
                    Gpu = c.Gpu,
                    PromptTokens = c.Prompt,
                    OutputTokens = c.Output,
                    Precision = c.Gpu.StartsWith("laptop", StringComparison.Ordinal) ? Core.Models.Precision.Int4 : null,
                };
                var result = EstimateService.Run(options, catalog);
                var e = result.Estimate;
                table.AddRow(
                    Markup.Escape(c.Label),
                    Markup.Escape(result.Deployment.Label),
                    $"{c.Prompt} / {c.Output}",
                    Units.Seconds(e.TtftSeconds),
                    Units.Seconds(e.TbtSeconds),
                    Units.Seconds(e.E2eSeconds),
                    Units.Bytes(e.WeightsBytes),
                    e.Fits ? e.MaxBatch.ToString(System.Globalization.CultureInfo.InvariantCulture) : "[red]does not fit[/]",
                    result.CalibrationSource.StartsWith("fitted", StringComparison.Ordinal) ? "calibrated" : "default factors");
            }

            console.Write(table);
            console.MarkupLine("[grey]Splitwise Table IV measured (P50): coding TTFT 185 ms (A100) vs 95 ms (H100), TBT 52 vs 31 ms; conversation TTFT 155 vs 84 ms, TBT 40 vs 28 ms.[/]");
            if (parseResult.GetValue(estimatesOnly))
            {
                return 0;
            }

            console.Write(new Rule("[bold]A real cluster on this machine[/]: every path against the local reference").LeftJustified());
            var outcome = await RuntimeDemo.RunAsync(demo, line => console.MarkupLine($"[grey]{Markup.Escape(line)}...[/]"), cancellationToken).ConfigureAwait(false);
            RenderCluster(console, outcome);
            if (!outcome.AllMatched)
            {
                throw new StrataException("Some distributed outputs differ from the local reference (see the table); this is a bug in Strata's runtime.");
            }

            console.MarkupLine("[green]Every output equals the local reference.[/] Cluster stopped. Next: 'strata serve --help', 'strata simulate --help', 'strata swarm --help', 'strata split study --help'.");
            return 0;
        });
        return command;
    }

    private static void RenderCluster(IAnsiConsole console, RuntimeDemo.Outcome outcome)
    {
        var plan = new Table().Border(TableBorder.Rounded).Title("[bold]Plan[/]: processes on loopback").AddColumn("Process").AddColumn("URL").AddColumn("Serves");
        foreach (var (name, url, role) in outcome.Processes)
        {
            plan.AddRow(Markup.Escape(name), Markup.Escape(url), Markup.Escape(role));
        }

        console.Write(plan);
        var paths = new Table().Border(TableBorder.Rounded).Title("[bold]Inference paths[/] (greedy decoding)")
            .AddColumn("Path").AddColumn(R("Requests")).AddColumn(R("Equal to local")).AddColumn(R("Mean TTFT")).AddColumn(R("Mean TPOT")).AddColumn(R("Tokens/s"))
            .AddColumn(R("Failovers")).AddColumn("Route of the last request");
        foreach (var p in outcome.Paths)
        {
            paths.AddRow(
                p.Path,
                p.Requests.ToString(System.Globalization.CultureInfo.InvariantCulture),
                p.Matched == p.Requests ? $"[green]{p.Matched}/{p.Requests}[/]" : $"[red]{p.Matched}/{p.Requests}[/]",
                double.IsNaN(p.MeanTtftSeconds) ? "-" : Units.Seconds(p.MeanTtftSeconds),
                double.IsNaN(p.MeanTpotSeconds) ? "-" : Units.Seconds(p.MeanTpotSeconds),
                p.TokensPerSecond.ToString("F0", System.Globalization.CultureInfo.InvariantCulture),
                p.Failovers.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(p.Route));
        }

        console.Write(paths);
    }

    private static TableColumn R(string header) => new TableColumn(header).RightAligned();
}
