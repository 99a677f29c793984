using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Strata.Cli.Output;
using Strata.Core;
using Strata.Core.Models;
using Strata.Core.Network;
using Strata.Performance.Estimation;
using Strata.Planning.Split;

namespace Strata.Cli.Commands;

/// <summary><c>strata split</c>: which layers a client should run and which the server, to least load the server within a latency SLA.</summary>
internal static class SplitCommand
{
    public static Command Create(CliContext context)
    {
        var instance = new Option<string?>("--instance") { Description = "A split instance JSON file with per-layer costs (docs/split.md). Instead of the model/device/link flags.", HelpName = "file" };
        var algorithm = new Option<string>("--algorithm") { Description = $"Planner: {string.Join(", ", SplitPlanners.Names)}, or all to compare them.", DefaultValueFactory = _ => "dp", HelpName = "name" };
        algorithm.AcceptOnlyFromAmong([.. SplitPlanners.Names, "all"]);
        var model = new Option<string?>("--model") { Description = "Model (catalog id or config.json path), to derive the costs from the performance model.", HelpName = "id" };
        var client = new Option<string?>("--client-device") { Description = "Client device id (snapdragon-8-gen-3, laptop-core-i7-13700h, jetson-agx-orin-64gb, ...).", HelpName = "id" };
        var server = new Option<string?>("--server-device") { Description = "Server device id.", DefaultValueFactory = _ => "a100-80gb", HelpName = "id" };
        var bandwidth = new Option<double>("--bandwidth-mbps") { Description = "Link bandwidth between client and server, Mbit/s.", DefaultValueFactory = _ => 100, HelpName = "mbps" };
        var rtt = new Option<double>("--rtt-ms") { Description = "Round-trip time between client and server, ms (each transfer pays half).", DefaultValueFactory = _ => 40, HelpName = "ms" };
        var prompt = new Option<int>("--prompt") { Description = "Prompt tokens of the request.", DefaultValueFactory = _ => 512, HelpName = "tokens" };
        var output = new Option<int>("--output") { Description = "Output tokens of the request.", DefaultValueFactory = _ => 128, HelpName = "tokens" };
        var sla = new Option<double>("--sla") { Description = "Latency SLA of the whole request, seconds.", DefaultValueFactory = _ => 30, HelpName = "seconds" };
        var memory = new Option<double?>("--client-memory-gib") { Description = "Client memory available for layers (weights + KV), GiB. Default: none beyond the device's.", HelpName = "gib" };
        var precision = new Option<string?>("--precision") { Description = $"Weight precision on both sides: {PrecisionInfo.AcceptedNames}. Default fp16.", HelpName = "p" };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table (an infeasible SLA is then feasible:false with exit code 0)." };
        var command = new Command("split", "Plan a client-server split (SplitLLM): the least server load whose latency meets the SLA, exact by dynamic programming, beside its baselines.")
        {
            instance, algorithm, model, client, server, bandwidth, rtt, prompt, output, sla, memory, precision, json,
        };
        command.Subcommands.Add(SplitStudyCommand.Create(context));
        command.SetAction(parseResult =>
        {
            var catalog = context.Catalog(parseResult);
            SplitInstance problem;
            IReadOnlyList<ScoredModel> pricing = [];
            var derived = false;
            if (parseResult.GetValue(instance) is { } path)
            {
                problem = SplitInstanceJson.Load(path);
            }
            else
            {
                var modelId = parseResult.GetValue(model) ?? throw new StrataException("Give --instance FILE.json, or --model and --client-device to derive the costs.");
                var clientId = parseResult.GetValue(client) ?? throw new StrataException("--client-device is required with --model (see 'strata catalog devices').");
                var clientDevice = catalog.Device(clientId);
                var memoryGib = parseResult.GetValue(memory);
                var request = new SplitCostRequest
                {
                    Model = catalog.Model(modelId),
                    ClientDevice = clientDevice,
                    ServerDevice = catalog.Device(parseResult.GetValue(server)!),
                    Link = new LinkSpec(parseResult.GetValue(rtt) / 2000.0, parseResult.GetValue(bandwidth) * 1e6 / 8, "client link").Validate("--rtt-ms/--bandwidth-mbps"),
                    PromptTokens = parseResult.GetValue(prompt),
                    OutputTokens = parseResult.GetValue(output),
                    SlaSeconds = parseResult.GetValue(sla),
                    ClientMemoryBudgetBytes = memoryGib is { } g ? g * (1L << 30) : clientDevice.MemoryBytes,
                    Precision = parseResult.GetValue(precision) is { } p ? PrecisionInfo.Parse(p, "--precision") : Precision.Fp16,
                };
                problem = SplitCostBuilder.Build(request);
                derived = true;
                pricing = [SplitCostBuilder.ScoredModelOn(request, request.ClientDevice), SplitCostBuilder.ScoredModelOn(request, request.ServerDevice)];
            }

            var name = parseResult.GetValue(algorithm)!;
            var planners = name == "all" ? SplitPlanners.All.Where(p => p is not ExhaustiveSplitPlanner || problem.LayerCount <= ExhaustiveSplitPlanner.MaxLayers).ToArray() : [SplitPlanners.ByName(name)];
            var plans = planners.Select(planner =>
            {
                var started = Stopwatch.GetTimestamp();
                var plan = planner.Plan(problem);
                return (planner.Name, Plan: plan, PlanSeconds: Stopwatch.GetElapsedTime(started).TotalSeconds);
            }).ToArray();

            if (parseResult.GetValue(json))
            {
                var objects = plans.Select(p => ToJson(p.Name, p.Plan, p.PlanSeconds, problem, pricing)).ToArray();
                Json.Write(context.Output, objects.Length == 1 ? objects[0] : objects);
                return 0;
            }

            Render(context.Console, problem, plans, derived ? parseResult.GetValue(sla) : null);
            if (pricing.Count > 0)
            {
                Pricing.Render(context.Console, pricing);
            }
            else
            {
                context.Console.MarkupLine("[grey]Priced by[/] the instance file's own per-layer costs (not scored by Strata's validation).");
            }

            var first = plans[0].Plan;
            if (!first.Feasible)
            {
                context.Error.WriteLine($"error: no split meets the SLA of {problem.SlaSeconds.ToString("G4", CultureInfo.InvariantCulture)} s{(first.FitsClientMemory ? "" : " within the client's memory")}; the fastest takes {first.LatencySeconds.ToString("G4", CultureInfo.InvariantCulture)} s.");
                return 1;
            }

            return 0;
        });
        return command;
    }

    private static object ToJson(string algorithm, SplitPlan plan, double planSeconds, SplitInstance problem, IReadOnlyList<ScoredModel> pricing) => new
    {
        algorithm,
        pricedBy = pricing.Count > 0 ? Pricing.Json(pricing) : null,
        feasible = plan.Feasible,
        meetsSla = plan.MeetsSla,
        fitsClientMemory = plan.FitsClientMemory,
        assignment = plan.Assignment.Select(side => side == SplitSide.Client ? "client" : "server"),
        clientLayers = plan.ClientLayerCount,
        serverLoad = plan.ServerLoad,
        latencySeconds = plan.LatencySeconds,
        slaSeconds = problem.SlaSeconds,
        clientMemoryBytes = plan.ClientMemoryBytes,
        planSeconds,
    };

    /// <summary>The table, with the SLA the planners used explained where it differs from the one asked for, and server load in its unit.</summary>
    /// <remarks><c>askedSlaSeconds</c> is the <c>--sla</c> given when the costs were derived from a model (its LM-head time on the client comes off it); null for an instance file.</remarks>
    private static void Render(IAnsiConsole console, SplitInstance problem, IReadOnlyList<(string Name, SplitPlan Plan, double PlanSeconds)> plans, double? askedSlaSeconds)
    {
        var allServer = problem.Evaluate(Enumerable.Repeat(SplitSide.Server, problem.LayerCount).ToArray()).ServerLoad;
        var adjusted = askedSlaSeconds is { } asked && asked != problem.SlaSeconds;
        var slaText = adjusted ? $"SLA {Units.Seconds(problem.SlaSeconds)} for the layers" : $"SLA {Units.Seconds(problem.SlaSeconds)}";
        var loadUnit = askedSlaSeconds is null ? "instance units" : "FLOPs";
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]Split of {problem.LayerCount} layers[/], {Markup.Escape(slaText)}")
            .AddColumn("Planner").AddColumn("Feasible").AddColumn(new TableColumn($"Server load ({loadUnit})").RightAligned()).AddColumn(new TableColumn("vs all-on-server").RightAligned())
            .AddColumn(new TableColumn("Latency").RightAligned()).AddColumn(new TableColumn("Client layers").RightAligned()).AddColumn("Assignment (C client, S server)").AddColumn(new TableColumn("Plan time").RightAligned());
        foreach (var (name, plan, seconds) in plans)
        {
            table.AddRow(name, plan.Feasible ? "[green]yes[/]" : "[red]no[/]", askedSlaSeconds is null ? plan.ServerLoad.ToString("G4", CultureInfo.InvariantCulture) : Units.Flop(plan.ServerLoad),
                allServer > 0 ? Units.Percent(plan.ServerLoad / allServer * 100) : "-", Units.Seconds(plan.LatencySeconds),
                plan.ClientLayerCount.ToString(CultureInfo.InvariantCulture), Runs(plan.AssignmentText), Units.Seconds(seconds));
        }

        console.Write(table);
        if (adjusted)
        {
            console.WriteLine($"SLA {Units.Seconds(problem.SlaSeconds)} left for the layers = {Units.Seconds(askedSlaSeconds!.Value)} asked, less {Units.Seconds(askedSlaSeconds.Value - problem.SlaSeconds)} of the LM head on the client over every step (the planners place layers only).");
        }
    }

    // "CCCSSS" -> "C x3, S x3": readable for 80 layers.
    private static string Runs(string assignment)
    {
        var parts = new List<string>();
        for (var i = 0; i < assignment.Length;)
        {
            var j = i;
            while (j < assignment.Length && assignment[j] == assignment[i])
            {
                j++;
            }

            parts.Add(j - i == 1 ? $"{assignment[i]}" : $"{assignment[i]}x{j - i}");
            i = j;
        }

        return string.Join(' ', parts);
    }
}
