using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Strata.Cli.Output;
using Strata.Cli.Reports;
using Strata.Core;
using Strata.Core.Catalogs;
using Strata.Core.Network;
using Strata.Core.Scenarios;
using Strata.Core.Workload;
using Strata.Simulation.Runs;
using Strata.Simulation.SplitServing;
using Strata.Simulation.Workloads;

namespace Strata.Cli.Commands;

/// <summary><c>strata split study</c>: server load and throughput when a population of clients each run part of the model.</summary>
internal static class SplitStudyCommand
{
    public static Command Create(CliContext context)
    {
        var scenario = new Option<string?>("--scenario") { Description = "Scenario file: model, server (first machine pool), clients with links and shares, workload, SLO class, split planners.", HelpName = "file" };
        var model = new Option<string>("--model") { Description = "Model without a scenario: catalog id or config.json path.", DefaultValueFactory = _ => "llama-2-7b", HelpName = "id" };
        var server = new Option<string>("--server-device") { Description = "Server device without a scenario.", DefaultValueFactory = _ => "a100-80gb", HelpName = "id" };
        var rate = new Option<double?>("--rate") { Description = "Arrival rate, requests per second (default: the scenario's, or 2).", HelpName = "rps" };
        var requests = new Option<int?>("--requests") { Description = "Requests in the study (default: the scenario's window, or 2000).", HelpName = "n" };
        var planners = new Option<string?>("--planners") { Description = "Planners to compare, comma-separated (default: the scenario's, or dp,greedy,prefix,server).", HelpName = "list" };
        var concurrency = new Option<int>("--concurrency") { Description = "Requests the server runs at full speed at once (its batching gain); processor sharing above.", DefaultValueFactory = _ => 8, HelpName = "n" };
        var headroom = new Option<double>("--headroom") { Description = "Share of each SLA kept free for queueing at the server when planning.", DefaultValueFactory = _ => 0.2, HelpName = "fraction" };
        var jitter = new Option<double>("--bandwidth-cv") { Description = "Variation of each request's link bandwidth around its link's (coefficient of variation).", DefaultValueFactory = _ => 0.3, HelpName = "cv" };
        var target = new Option<double>("--target") { Description = "SLA attainment the highest-rate search keeps.", DefaultValueFactory = _ => 0.99, HelpName = "fraction" };
        var seed = new Option<int?>("--seed") { Description = "Seed of arrivals, lengths, client draws and link jitter (default: the scenario's, or 0).", HelpName = "n" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables." };
        var report = new Option<string?>("--report") { Description = "Write PNG charts (server load, highest rate, split per client) and summary.md into this folder.", HelpName = "dir" };
        var command = new Command("study", "Server throughput study: clients on their own devices and links each get a split from a planner; compare server load, SLA attainment and the highest rate the server sustains.")
        {
            scenario, model, server, rate, requests, planners, concurrency, headroom, jitter, target, seed, json, report,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var catalog = context.Catalog(parseResult);
            var (title, options) = parseResult.GetValue(scenario) is { } path
                ? FromScenario(ScenarioLoader.Load(path, catalog), parseResult, rate, requests, seed)
                : ("built-in client mix", Default(catalog, parseResult, model, server, rate, requests, seed));
            options = options with
            {
                Planners = parseResult.GetValue(planners) is { } list ? [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] : options.Planners,
                ServerConcurrency = parseResult.GetValue(concurrency),
                HeadroomFraction = parseResult.GetValue(headroom),
                BandwidthJitterCv = parseResult.GetValue(jitter),
                TargetAttainment = parseResult.GetValue(target),
            };
            options.Validate();

            SplitStudyResult result = null!;
            if (parseResult.GetValue(json))
            {
                result = SplitStudy.Run(options, cancellationToken: cancellationToken);
            }
            else
            {
                context.Console.Progress().AutoClear(true).Start(progress =>
                {
                    var task = progress.AddTask($"Planning and serving {options.Planners.Count} planners", maxValue: 1.0);
                    result = SplitStudy.Run(options, new Progress<double>(v => task.Value = v), cancellationToken);
                    task.Value = 1.0;
                });
            }

            var written = parseResult.GetValue(report) is { } folder ? SplitStudyReport.Write(folder, title, result) : [];
            if (parseResult.GetValue(json))
            {
                Json.Write(context.Output, ToJson(title, options, result, written));
                return Task.FromResult(0);
            }

            Render(context.Console, title, options, result);
            foreach (var file in written)
            {
                context.Console.MarkupLine($"Wrote [blue]{Markup.Escape(file)}[/]");
            }

            return Task.FromResult(0);
        });
        return command;
    }

    private static (string Title, SplitStudyOptions Options) FromScenario(Scenario loaded, ParseResult parseResult, Option<double?> rate, Option<int?> requests, Option<int?> seed)
    {
        var where = $"{loaded.SourcePath}";
        if (loaded.Models.Count == 0 || loaded.Machines.Count == 0 || loaded.Clients.Count == 0 || loaded.Workload is null)
        {
            throw new StrataException($"{where}: a split study needs models, machines (the server is the first pool), clients and a workload; this scenario lacks some.");
        }

        var workload = ScenarioSimulation.Workload(loaded.Workload, parseResult.GetValue(seed) ?? loaded.Seed);
        workload = workload with
        {
            RateRequestsPerSecond = parseResult.GetValue(rate) ?? workload.RateRequestsPerSecond,
            Requests = parseResult.GetValue(requests) ?? workload.Requests,
            DurationSeconds = parseResult.GetValue(requests) is null ? workload.DurationSeconds : null,
        };
        var slo = loaded.Slos.Classes.Count > 0 ? loaded.Slos.Classes[0].Objective : new ServiceLevelObjective(TtftSeconds: 2.0, TbtSeconds: 0.2);
        return (loaded.Name, new SplitStudyOptions
        {
            Model = loaded.Models[0].Architecture,
            ServerDevice = loaded.Machines[0].Machine.Device,
            Clients = loaded.Clients,
            Workload = workload,
            Slo = slo,
            Planners = loaded.Policies.Split.Count > 0 ? loaded.Policies.Split : ["dp", "greedy", "prefix", "server"],
        });
    }

    private static SplitStudyOptions Default(Catalog catalog, ParseResult parseResult, Option<string> model, Option<string> server, Option<double?> rate, Option<int?> requests, Option<int?> seed)
    {
        static ScenarioLink Link(string id, double rttSeconds, double mbps) => new(id, new LinkSpec(rttSeconds / 2, mbps * 1e6 / 8, id));
        return new SplitStudyOptions
        {
            Model = catalog.Model(parseResult.GetValue(model)!),
            ServerDevice = catalog.Device(parseResult.GetValue(server)!),
            Clients =
            [
                new ScenarioClient("phones-5g", catalog.Device("snapdragon-8-gen-3"), 0.5, Link("5g", 0.04, 100)),
                new ScenarioClient("laptops-wifi", catalog.Device("laptop-core-i7-13700h"), 0.3, Link("wifi", 0.01, 300)),
                new ScenarioClient("jetsons-lte", catalog.Device("jetson-agx-orin-64gb"), 0.2, Link("lte", 0.08, 20)),
            ],
            Workload = new WorkloadOptions
            {
                RateRequestsPerSecond = parseResult.GetValue(rate) ?? 2,
                Requests = parseResult.GetValue(requests) ?? 2000,
                Arrivals = ArrivalProcess.Poisson,
                PromptTokens = new LengthDistribution.LogNormal(256, 1024, Max: 4096),
                OutputTokens = new LengthDistribution.Uniform(32, 256),
                Seed = parseResult.GetValue(seed) ?? 0,
            },
        };
    }

    private static object ToJson(string title, SplitStudyOptions options, SplitStudyResult result, IReadOnlyList<string> written) => new
    {
        study = title,
        model = options.Model.Id.Value,
        server = options.ServerDevice.Id.Value,
        rateRequestsPerSecond = result.RateRequestsPerSecond,
        requests = result.Requests,
        serverConcurrency = options.ServerConcurrency,
        headroomFraction = options.HeadroomFraction,
        targetAttainment = options.TargetAttainment,
        planners = result.Planners.Select(p => new
        {
            planner = p.Planner,
            meanServerFlopsPerRequest = p.MeanServerFlopsPerRequest,
            meanServerSecondsPerRequest = p.MeanServerSecondsPerRequest,
            serverLoadVsAllServer = p.ServerLoadVsAllServer,
            slaAttainment = p.SlaAttainment,
            e2eSeconds = new { p50 = p.E2e.P50, p90 = p.E2e.P90, p99 = p.E2e.P99, mean = p.E2e.Mean },
            maxRateRequestsPerSecond = double.IsPositiveInfinity(p.MaxRateRequestsPerSecond) ? (double?)null : p.MaxRateRequestsPerSecond,
            infeasiblePlans = p.InfeasiblePlans,
            clients = p.Clients.Select(c => new { client = c.ClientId, requests = c.Requests, meanClientLayers = c.MeanClientLayers, meanServerFlopsPerRequest = c.MeanServerFlopsPerRequest, infeasiblePlans = c.InfeasiblePlans }),
        }),
        report = written,
        wallSeconds = result.WallSeconds,
    };

    private static void Render(IAnsiConsole console, string title, SplitStudyOptions options, SplitStudyResult result)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]{Markup.Escape(title)}[/]: {Markup.Escape(options.Model.Id.Value)} on {Markup.Escape(options.ServerDevice.Id.Value)}, {result.Requests:N0} requests at {result.RateRequestsPerSecond:G4} req/s")
            .AddColumn("Planner").AddColumn(R("Server load vs all-on-server")).AddColumn(R("Server s/request")).AddColumn(R("SLA attainment"))
            .AddColumn(R("E2E P99")).AddColumn(R($"Max rate (>= {options.TargetAttainment:P0})")).AddColumn(R("Infeasible"));
        foreach (var p in result.Planners)
        {
            table.AddRow(
                p.Planner,
                Units.Percent(p.ServerLoadVsAllServer * 100),
                p.MeanServerSecondsPerRequest.ToString("F3", CultureInfo.InvariantCulture),
                Units.Percent(p.SlaAttainment * 100),
                Units.Seconds(p.E2e.P99),
                double.IsPositiveInfinity(p.MaxRateRequestsPerSecond) ? "unbounded" : Units.Rate(p.MaxRateRequestsPerSecond, "requests"),
                p.InfeasiblePlans.ToString(CultureInfo.InvariantCulture));
        }

        console.Write(table);
        var clients = new Table().Border(TableBorder.Rounded).Title("Mean layers on the client").AddColumn("Client");
        foreach (var p in result.Planners)
        {
            clients.AddColumn(R(p.Planner));
        }

        for (var c = 0; c < options.Clients.Count; c++)
        {
            clients.AddRow([options.Clients[c].Id, .. result.Planners.Select(p => p.Clients[c].MeanClientLayers.ToString("F1", CultureInfo.InvariantCulture))]);
        }

        console.Write(clients);
        console.MarkupLine($"[grey]{options.Model.LayerCount} layers; server concurrency {options.ServerConcurrency}; planning headroom {options.HeadroomFraction:P0}; wall {result.WallSeconds:F2} s[/]");
    }

    private static TableColumn R(string header) => new TableColumn(header).RightAligned();
}
