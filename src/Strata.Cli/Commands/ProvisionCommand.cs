using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Strata.Cli.Output;
using Strata.Performance.Estimation;
using Strata.Planning.Pools;
using Strata.Simulation.Provisioning;
using Strata.Simulation.Runs;
using Strata.Simulation.Workloads;

namespace Strata.Cli.Commands;

/// <summary><c>strata provision</c>: search pool splits of a design by simulation.</summary>
internal static class ProvisionCommand
{
    public static Command Create(CliContext context)
    {
        var design = new Option<string>("--design") { Description = $"Cluster design: {string.Join(", ", ClusterDesigns.Names)}.", Required = true, HelpName = "name" };
        design.AcceptOnlyFromAmong([.. ClusterDesigns.Names]);
        var goal = new Option<string>("--goal") { Description = "min-cost or min-power (at --rate), max-rate-cost or max-rate-power (within --budget).", DefaultValueFactory = _ => "min-cost", HelpName = "goal" };
        goal.AcceptOnlyFromAmong("min-cost", "min-power", "max-rate-cost", "max-rate-power");
        var rate = new Option<double?>("--rate") { Description = "Target rate (requests per second) for min-cost and min-power.", HelpName = "rps" };
        var budget = new Option<double?>("--budget") { Description = "Budget for max-rate goals: USD per hour (max-rate-cost) or watts (max-rate-power).", HelpName = "amount" };
        var trace = new Option<string>("--trace") { Description = "Trace whose (prompt, output) rows each simulation draws (or whose arrivals --arrivals trace replays, rescaled to each rate tried): code, conv or a CSV path.", DefaultValueFactory = _ => "conv", HelpName = "name" };
        var workload = new WorkloadFlags();
        var maxMachines = new Option<int>("--max-machines") { Description = "Most machines per pool considered.", DefaultValueFactory = _ => 60, HelpName = "n" };
        var slo = new Option<string>("--slo") { Description = "SLO each candidate must meet: splitwise (all nine Table VI slowdown checks) or mlperf (99% of requests within TTFT 2 s and TPOT 200 ms).", DefaultValueFactory = _ => "splitwise", HelpName = "rule" };
        slo.AcceptOnlyFromAmong("splitwise", "mlperf");
        var model = new Option<string>("--model") { Description = "Model: catalog id or config.json path.", DefaultValueFactory = _ => "llama-2-70b", HelpName = "id" };
        var profile = new Option<string>("--profile") { Description = "Performance model: roofline (calibrated) or measured.", DefaultValueFactory = _ => "roofline", HelpName = "kind" };
        profile.AcceptOnlyFromAmong("roofline", "measured");
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables." };
        var command = new Command("provision", "Find the cheapest or lowest-power pool split that serves a rate, or the highest rate a cost or power budget serves, by simulating candidates on all cores.")
        {
            design, goal, rate, budget, trace, workload.Arrivals, workload.Lengths, workload.Duration, workload.Seed, maxMachines, slo, model, profile, json,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var options = new ProvisioningOptions
            {
                Simulation = new SimulateOptions
                {
                    Design = parseResult.GetValue(design)!,
                    Model = parseResult.GetValue(model)!,
                    Profile = parseResult.GetValue(profile) == "measured" ? PerformanceProfile.Measured : PerformanceProfile.Roofline,
                    Workload = workload.Build(parseResult, parseResult.GetValue(trace), parseResult.GetValue(rate)),
                },
                Goal = parseResult.GetValue(goal) switch
                {
                    "min-power" => ProvisioningGoal.MinPower,
                    "max-rate-cost" => ProvisioningGoal.MaxRateForCost,
                    "max-rate-power" => ProvisioningGoal.MaxRateForPower,
                    _ => ProvisioningGoal.MinCost,
                },
                TargetRateRequestsPerSecond = parseResult.GetValue(rate),
                Budget = parseResult.GetValue(budget),
                MaxMachinesPerPool = parseResult.GetValue(maxMachines),
                UseSplitwiseSlo = parseResult.GetValue(slo) == "splitwise",
            };
            var catalog = context.Catalog(parseResult);
            ProvisioningResult? result = null;
            var pricing = SimulationService.Pricing(options.Simulation, catalog);
            if (parseResult.GetValue(json))
            {
                result = ProvisioningSearch.Run(options, catalog, cancellationToken: cancellationToken);
                Json.Write(context.Output, WithPricing(result, pricing, options.Simulation.Workload));
                return Task.FromResult(0);
            }

            context.Console.Progress().AutoClear(true).Start(progress =>
            {
                var task = progress.AddTask($"Searching {options.Simulation.Design} pool splits", maxValue: 1.0);
                result = ProvisioningSearch.Run(options, catalog, new Progress(task), cancellationToken);
            });
            context.Console.MarkupLine($"[grey]workload ({Markup.Escape(options.Simulation.Workload.ConstructionName)}): {Markup.Escape(options.Simulation.Workload.Construction)}{(options.TargetRateRequestsPerSecond is null ? EachRate : "")}; `strata simulate` builds the same requests with the same flags[/]");
            Render(context.Console, result!);
            Pricing.Render(context.Console, pricing);
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>The result's JSON object with <c>pricedBy</c> added (every field of <see cref="ProvisioningResult"/> kept as it was).</summary>
    private static System.Text.Json.Nodes.JsonObject WithPricing(ProvisioningResult result, IReadOnlyList<ScoredModel> pricing, WorkloadOptions workload)
    {
        using var buffer = new StringWriter(CultureInfo.InvariantCulture);
        Json.Write(buffer, result);
        var node = System.Text.Json.Nodes.JsonNode.Parse(buffer.ToString())!.AsObject();
        using var pricedBy = new StringWriter(CultureInfo.InvariantCulture);
        Json.Write(pricedBy, Pricing.Json(pricing));
        node["pricedBy"] = System.Text.Json.Nodes.JsonNode.Parse(pricedBy.ToString());
        using var workloadJson = new StringWriter(CultureInfo.InvariantCulture);
        Json.Write(workloadJson, WorkloadFlags.Json(workload, result.Goal is ProvisioningGoal.MinCost or ProvisioningGoal.MinPower ? "" : EachRate));
        node["workload"] = System.Text.Json.Nodes.JsonNode.Parse(workloadJson.ToString());
        return node;
    }

    private static void Render(IAnsiConsole console, ProvisioningResult result)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(result.Design)}[/]: {result.Candidates.Count} candidates, {result.Simulations} simulations in {result.WallSeconds:F1} s")
            .AddColumn(R("Prompt")).AddColumn(R("Token")).AddColumn(R("Machines")).AddColumn(R("$/hour")).AddColumn(R("kW")).AddColumn(R("Rate (req/s)")).AddColumn("Meets SLO");
        foreach (var c in Shown(result))
        {
            var mark = ReferenceEquals(c, result.Best) ? "[green]best[/]" : "yes";
            table.AddRow(I(c.PromptMachines), I(c.TokenMachines), I(c.Machines), c.CostPerHour.ToString("F1", CultureInfo.InvariantCulture),
                (c.PowerWatts / 1000).ToString("F1", CultureInfo.InvariantCulture), c.RateRequestsPerSecond.ToString("F2", CultureInfo.InvariantCulture), mark);
        }

        console.Write(table);
        console.MarkupLine(result.Best is { } best
            ? $"Best: [bold]{best.PromptMachines} prompt + {best.TokenMachines} token[/] ({best.Machines} machines), ${best.CostPerHour:F1}/h, {best.PowerWatts / 1000:F1} kW, {best.RateRequestsPerSecond:F2} req/s."
            : "[red]No candidate met the SLO.[/] Raise --max-machines or lower the rate.");
    }

    /// <summary>The feasible candidates the table shows: the 15 best by the search's goal, and the winner always (first).</summary>
    internal static IReadOnlyList<ProvisioningCandidate> Shown(ProvisioningResult result)
    {
        var feasible = result.Candidates.Where(c => c.MeetsSlo);
        var ordered = result.Goal switch
        {
            ProvisioningGoal.MinPower => feasible.OrderBy(c => c.PowerWatts).ThenBy(c => c.CostPerHour),
            ProvisioningGoal.MaxRateForCost or ProvisioningGoal.MaxRateForPower => feasible.OrderByDescending(c => c.RateRequestsPerSecond).ThenBy(c => c.CostPerHour),
            _ => feasible.OrderBy(c => c.CostPerHour).ThenBy(c => c.PowerWatts),
        };
        var shown = ordered.Where(c => !ReferenceEquals(c, result.Best)).Take(result.Best is null ? 15 : 14).ToList();
        if (result.Best is { } best)
        {
            shown.Insert(0, best);
        }

        return shown;
    }

    private const string EachRate = " (at each rate the search tries)";

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static TableColumn R(string header) => new TableColumn(header).RightAligned();

    private sealed class Progress(ProgressTask task) : IProgress<double>
    {
        public void Report(double value) => task.Value = value;
    }
}
