using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Strata.Cli.Output;
using Strata.Cli.Reports;
using Strata.Core;
using Strata.Core.Models;
using Strata.Core.Scenarios;
using Strata.Planning.Placement;
using Strata.Planning.Routing;
using Strata.Planning.Swarm;
using Strata.Simulation.Swarm;

namespace Strata.Cli.Commands;

/// <summary><c>strata swarm</c>: geo-distributed block placement and routing (PETALS, CG-BP + WS-RR, MILP), simulated pair by pair on the same arrivals; <c>strata swarm plan</c> prints a placement.</summary>
internal static class SwarmCommand
{
    public static Command Create(CliContext context)
    {
        var o = new SwarmOptions();
        var command = new Command("swarm", "Simulate a geo-distributed swarm (PETALS-style block servers): every placement x routing pair on the same Poisson arrivals, mean and P99 per-token time, TTFT, failures.");
        o.AddTo(command);
        var plan = new Command("plan", "Print the block placement each policy chooses (per server: node, device, first block, block count), with plan time, R, Theorem 2 bound and MILP gap.");
        command.Subcommands.Add(plan);
        command.SetAction(parseResult => RunStudy(context, o, parseResult));
        plan.SetAction(parseResult => RunPlan(context, o, parseResult));
        return command;
    }

    private static int RunStudy(CliContext context, SwarmOptions o, ParseResult parseResult)
    {
        var (instance, placements, routings, options) = o.Read(context, parseResult);
        var rows = SwarmStudy.Run(instance, placements, routings, options, parseResult.GetValue(o.MilpTimeLimit), parseResult.GetValue(o.MilpSessions), parseResult.GetValue(o.MilpWorkers));
        if (parseResult.GetValue(o.Report) is { } directory)
        {
            SwarmReport.Write(directory, instance, rows);
        }

        if (parseResult.GetValue(o.Json))
        {
            Json.Write(context.Output, new
            {
                topology = instance.Network.Name,
                costs = instance.Costs.Name,
                pricedBy = instance.Costs.Pricing,
                forwarding = instance.Forwarding,
                servers = instance.Servers.Count,
                clients = instance.Clients.Count,
                rateRequestsPerSecond = options.RateRequestsPerSecond,
                requests = options.Requests,
                promptTokens = instance.PromptTokens,
                outputTokens = instance.OutputTokens,
                seed = options.Seed,
                results = rows.Select(r => new
                {
                    placement = r.Placement,
                    routing = r.Routing,
                    meanPerTokenSeconds = r.Result.MeanPerTokenSeconds,
                    meanTtftSeconds = r.Result.MeanTtftSeconds,
                    p99PerTokenSeconds = r.Result.P99PerTokenSeconds,
                    meanWaitSeconds = r.Result.MeanWaitSeconds,
                    completed = r.Result.Completed,
                    failed = r.Result.Failed,
                    planSeconds = r.PlanSeconds,
                    concurrency = r.Plan.Concurrency,
                    theorem2BoundSecondsPerToken = r.Plan.BoundSecondsPerToken,
                    milpGap = r.Plan.OptimalityGap,
                    replans = r.Result.Replans,
                    failures = r.Result.Outcomes.Where(x => !x.Completed).Select(x => new { request = x.Request, reason = x.FailureReason }),
                }),
            });
            return 0;
        }

        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]Swarm[/] {Markup.Escape(instance.Network.Name)}, {instance.Servers.Count} servers, {instance.Clients.Count} client(s), {options.Requests} requests at {options.RateRequestsPerSecond.ToString("G4", CultureInfo.InvariantCulture)} req/s, {instance.PromptTokens}+{instance.OutputTokens} tokens, costs {Markup.Escape(instance.Costs.Name)}")
            .AddColumn("Placement").AddColumn("Routing")
            .AddColumn(new TableColumn("Mean per-token").RightAligned()).AddColumn(new TableColumn("P99 per-token").RightAligned())
            .AddColumn(new TableColumn("Mean TTFT").RightAligned()).AddColumn(new TableColumn("Mean wait").RightAligned())
            .AddColumn(new TableColumn("Completed").RightAligned()).AddColumn(new TableColumn("Failed").RightAligned())
            .AddColumn(new TableColumn("R").RightAligned()).AddColumn(new TableColumn("Replans").RightAligned()).AddColumn(new TableColumn("Plan time").RightAligned());
        foreach (var r in rows)
        {
            table.AddRow(r.Placement, r.Routing, Units.Seconds(r.Result.MeanPerTokenSeconds), Units.Seconds(r.Result.P99PerTokenSeconds),
                Units.Seconds(r.Result.MeanTtftSeconds), Units.Seconds(r.Result.MeanWaitSeconds),
                r.Result.Completed.ToString(CultureInfo.InvariantCulture), r.Result.Failed.ToString(CultureInfo.InvariantCulture),
                r.Plan.Concurrency?.ToString(CultureInfo.InvariantCulture) ?? "-", r.Result.Replans.ToString(CultureInfo.InvariantCulture), Units.Seconds(r.PlanSeconds));
        }

        context.Console.Write(table);
        PrintPricing(context, instance);
        foreach (var r in rows.Where(r => r.Plan.Note is not null).DistinctBy(r => r.Placement))
        {
            context.Console.WriteLine($"{r.Placement}: {r.Plan.Note}");
        }

        return 0;
    }

    private static int RunPlan(CliContext context, SwarmOptions o, ParseResult parseResult)
    {
        var (instance, placements, _, options) = o.Read(context, parseResult);
        var plans = placements.Select(name =>
        {
            var policy = PlacementPolicies.Create(name, parseResult.GetValue(o.MilpTimeLimit), parseResult.GetValue(o.MilpSessions), parseResult.GetValue(o.MilpWorkers));
            var (plan, seconds) = SwarmStudy.Plan(instance, policy, options.RateRequestsPerSecond);
            return (Name: name, Plan: plan, Seconds: seconds, Policy: policy);
        }).ToArray();
        if (parseResult.GetValue(o.Report) is { } directory)
        {
            SwarmReport.WritePlacements(directory, instance, [.. plans.Select(p => (p.Name, p.Plan.Placement))]);
        }

        if (parseResult.GetValue(o.Json))
        {
            Json.Write(context.Output, new
            {
                topology = instance.Network.Name,
                costs = instance.Costs.Name,
                pricedBy = instance.Costs.Pricing,
                layers = instance.LayerCount,
                placements = plans.Select(p => new
                {
                    placement = p.Name,
                    planSeconds = p.Seconds,
                    concurrency = p.Plan.Concurrency,
                    theorem2BoundSecondsPerToken = p.Plan.BoundSecondsPerToken,
                    objectiveSeconds = p.Plan.ObjectiveSeconds,
                    milpGap = p.Plan.OptimalityGap,
                    servers = instance.Servers.Select((s, j) => new
                    {
                        server = s.Name,
                        node = instance.Network.NodeNames[s.Node],
                        device = s.Costs.DeviceId,
                        firstBlock = p.Plan.Placement.Blocks(j).First,
                        blockCount = p.Plan.Placement.Blocks(j).Count,
                        cacheSlots = p.Policy.CacheSlots(instance, j, p.Plan.Placement.Blocks(j).Count),
                    }),
                }),
            });
            return 0;
        }

        foreach (var (name, plan, seconds, policy) in plans)
        {
            var table = new Table().Border(TableBorder.Rounded)
                .Title($"[bold]{Markup.Escape(name)}[/] placement of {instance.LayerCount} blocks, planned in {Units.Seconds(seconds)}"
                    + (plan.Concurrency is { } r ? $", R = {r}" : "")
                    + (plan.BoundSecondsPerToken is { } b ? $", Theorem 2 bound {Units.Seconds(b)}/token" : "")
                    + (plan.OptimalityGap is { } g ? $", MILP gap {g.ToString("P1", CultureInfo.InvariantCulture)}" : ""))
                .AddColumn("Server").AddColumn("Node").AddColumn("Device")
                .AddColumn(new TableColumn("First block").RightAligned()).AddColumn(new TableColumn("Blocks").RightAligned()).AddColumn(new TableColumn("Cache slots").RightAligned());
            for (var j = 0; j < instance.Servers.Count; j++)
            {
                var s = instance.Servers[j];
                var blocks = plan.Placement.Blocks(j);
                table.AddRow(s.Name, Markup.Escape(instance.Network.NodeNames[s.Node]), s.Costs.DeviceId,
                    blocks.First.ToString(CultureInfo.InvariantCulture), blocks.Count.ToString(CultureInfo.InvariantCulture),
                    policy.CacheSlots(instance, j, blocks.Count).ToString(CultureInfo.InvariantCulture));
            }

            context.Console.Write(table);
        }

        PrintPricing(context, instance);
        return 0;
    }

    private static void PrintPricing(CliContext context, SwarmInstance instance)
    {
        foreach (var line in instance.Costs.Pricing)
        {
            context.Console.MarkupLine($"[grey]Priced by[/] {Markup.Escape(line)}");
        }
    }

    /// <summary>The flags shared by <c>swarm</c> and <c>swarm plan</c> (recursive options).</summary>
    private sealed class SwarmOptions
    {
        public Option<string?> Scenario { get; } = new("--scenario") { Description = "A scenario file (machines, topology, workload, policies); flags given as well override it.", HelpName = "file", Recursive = true };
        public Option<string> Topology { get; } = new("--topology") { Description = "clustered (the paper's 3-cluster preset), abvt, bellcanada, gtsce, attmpls, or a .graph file path.", DefaultValueFactory = _ => "clustered", HelpName = "name|path", Recursive = true };
        public Option<int> Servers { get; } = new("--servers") { Description = "Number of servers.", DefaultValueFactory = _ => 9, HelpName = "n", Recursive = true };
        public Option<double> Fraction { get; } = new("--a100-fraction") { Description = "Share of servers that are the fast device (A100-80GB), the rest the slow one (A100 MIG 1g.10gb).", DefaultValueFactory = _ => 0.2, HelpName = "f", Recursive = true };
        public Option<string[]> Devices { get; } = new("--devices") { Description = "Explicit server devices in join order, comma-separated (overrides --servers/--a100-fraction).", HelpName = "list", Recursive = true, AllowMultipleArgumentsPerToken = true };
        public Option<int> Clients { get; } = new("--clients") { Description = "Number of clients.", DefaultValueFactory = _ => 1, HelpName = "n", Recursive = true };
        public Option<double> Rate { get; } = new("--rate") { Description = "Poisson arrival rate, requests per second.", DefaultValueFactory = _ => 0.1, HelpName = "rps", Recursive = true };
        public Option<int> Requests { get; } = new("--requests") { Description = "Number of requests.", DefaultValueFactory = _ => 100, HelpName = "n", Recursive = true };
        public Option<int> Prompt { get; } = new("--prompt") { Description = "Prompt tokens per request.", DefaultValueFactory = _ => 20, HelpName = "tokens", Recursive = true };
        public Option<int> Output { get; } = new("--output") { Description = "Output tokens per request.", DefaultValueFactory = _ => 64, HelpName = "tokens", Recursive = true };
        public Option<string[]> Placement { get; } = new("--placement") { Description = $"Placement policies, comma-separated: {string.Join(", ", PlacementPolicies.Names)}.", HelpName = "list", Recursive = true, AllowMultipleArgumentsPerToken = true };
        public Option<string[]> Routing { get; } = new("--routing") { Description = $"Routing policies, comma-separated: {string.Join(", ", RoutingPolicies.Names)}.", HelpName = "list", Recursive = true, AllowMultipleArgumentsPerToken = true };
        public Option<string> Costs { get; } = new("--costs") { Description = "paper (BLOOM-176B calibrated constants of Sun et al.) or roofline (--model, --precision, catalog devices).", DefaultValueFactory = _ => SwarmSetup.PaperCosts, HelpName = "name", Recursive = true };
        public Option<string> Model { get; } = new("--model") { Description = "Model for roofline costs.", DefaultValueFactory = _ => "bloom-176b", HelpName = "id", Recursive = true };
        public Option<string> Precision { get; } = new("--precision") { Description = $"Weight precision for roofline costs: {PrecisionInfo.AcceptedNames}.", DefaultValueFactory = _ => "int4", HelpName = "p", Recursive = true };
        public Option<string> FastDevice { get; } = new("--fast-device") { Description = "The fast device of the mix.", DefaultValueFactory = _ => SwarmCostPresets.A100, HelpName = "id", Recursive = true };
        public Option<string> SlowDevice { get; } = new("--slow-device") { Description = "The slow device of the mix.", DefaultValueFactory = _ => SwarmCostPresets.Mig, HelpName = "id", Recursive = true };
        public Option<string> Forwarding { get; } = new("--forwarding") { Description = "hub (PETALS: the client relays every hop) or direct (server to server).", DefaultValueFactory = _ => "hub", HelpName = "mode", Recursive = true };
        public Option<string> Waiting { get; } = new("--waiting") { Description = "How PETALS-routed sessions wait for cache: petals (fail at once, back off 0,1,2,4..60 s, ban the server; PETALS' behaviour) or queue (exact queueing). WS-RR always queues.", DefaultValueFactory = _ => "petals", HelpName = "mode", Recursive = true };
        public Option<double> AnnouncePeriod { get; } = new("--announce-period") { Description = "Seconds between the servers' cache announcements PETALS routing reads (PETALS: 60; 0: live state).", DefaultValueFactory = _ => 60, HelpName = "seconds", Recursive = true };
        public Option<string> ClusteredDelays { get; } = new("--clustered-delays") { Description = "How the clustered preset's 5 ms / 100 ms are read: one-way (default) or rtt (halved one way).", DefaultValueFactory = _ => "one-way", HelpName = "reading", Recursive = true };
        public Option<bool> PaperArtefacts { get; } = new("--paper-artefacts") { Description = "Switch on the paper's scripts' artefacts (not mechanisms): MIG capped at 4 PETALS blocks, 250 s (PETALS) / 60 s (others) per request and a 70 ms initial delay, held in the cache, waits rounded up to PETALS' retry schedule.", Recursive = true };
        public Option<double> Overhead { get; } = new("--overhead-ms") { Description = "Software overhead per hop per token, ms, added to the RTT.", DefaultValueFactory = _ => SwarmCostPresets.DefaultPerTokenOverheadSeconds * 1000, HelpName = "ms", Recursive = true };
        public Option<double> MilpTimeLimit { get; } = new("--milp-time-limit") { Description = "Time limit of the exact placement (MILP), seconds.", DefaultValueFactory = _ => 60, HelpName = "seconds", Recursive = true };
        public Option<int?> MilpSessions { get; } = new("--milp-sessions") { Description = "Concurrent sessions the MILP plans for (default: R from the load, as CG-BP).", HelpName = "n", Recursive = true };
        public Option<int> MilpWorkers { get; } = new("--milp-workers") { Description = "CP-SAT worker threads of the MILP (1 is deterministic when it proves optimality).", DefaultValueFactory = _ => 1, HelpName = "n", Recursive = true };
        public Option<double> FailRate { get; } = new("--fail-rate") { Description = "Churn: server failures per second over the swarm (0: none).", DefaultValueFactory = _ => 0, HelpName = "per-second", Recursive = true };
        public Option<double?> RejoinAfter { get; } = new("--rejoin-after") { Description = "Churn: seconds after a random failure that the server rejoins (default: never).", HelpName = "seconds", Recursive = true };
        public Option<string[]> Churn { get; } = new("--churn") { Description = "Churn at given times: TIME:SERVER:fail|leave|join, comma-separated (e.g. 300:0:fail,900:0:join).", HelpName = "list", Recursive = true, AllowMultipleArgumentsPerToken = true };
        public Option<int> Seed { get; } = new("--seed") { Description = "Seed of every random choice.", DefaultValueFactory = _ => 0, HelpName = "n", Recursive = true };
        public Option<string?> Report { get; } = new("--report") { Description = "Write PNG charts (placements, latency comparison) to this folder.", HelpName = "dir", Recursive = true };
        public Option<bool> Json { get; } = new("--json") { Description = "Print JSON instead of tables.", Recursive = true };

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { Scenario, Topology, Servers, Fraction, Devices, Clients, Rate, Requests, Prompt, Output, Placement, Routing, Costs, Model, Precision, FastDevice, SlowDevice, Forwarding, Waiting, AnnouncePeriod, ClusteredDelays, PaperArtefacts, Overhead, MilpTimeLimit, MilpSessions, MilpWorkers, FailRate, RejoinAfter, Churn, Seed, Report, Json })
            {
                command.Options.Add(option);
            }
        }

        public (SwarmInstance Instance, IReadOnlyList<string> Placements, IReadOnlyList<string> Routings, SwarmSimulationOptions Options) Read(CliContext context, ParseResult parseResult)
        {
            var catalog = context.Catalog(parseResult);
            bool Given(Option option) => parseResult.GetResult(option) is { Implicit: false };
            var setup = new SwarmSetup();
            var placements = List(parseResult.GetValue(Placement));
            var routings = List(parseResult.GetValue(Routing));
            double rate = parseResult.GetValue(Rate);
            int requests = parseResult.GetValue(Requests);
            var seed = parseResult.GetValue(Seed);
            if (parseResult.GetValue(Scenario) is { } path)
            {
                var scenario = ScenarioLoader.Load(path, catalog);
                setup = SwarmSetup.FromScenario(scenario);
                placements = placements.Count > 0 ? placements : [.. scenario.Policies.Placement];
                routings = routings.Count > 0 ? routings : [.. scenario.Policies.Routing];
                rate = Given(Rate) ? rate : scenario.Workload?.RateRequestsPerSecond ?? rate;
                requests = Given(Requests) ? requests : scenario.Workload?.Requests ?? requests;
                seed = Given(Seed) ? seed : scenario.Seed;
                catalog = scenario.Catalog;
            }

            setup = setup with
            {
                Topology = Given(Topology) || parseResult.GetValue(Scenario) is null ? parseResult.GetValue(Topology)! : setup.Topology,
                Servers = parseResult.GetValue(Servers),
                FastFraction = parseResult.GetValue(Fraction),
                FastDevice = parseResult.GetValue(FastDevice)!,
                SlowDevice = parseResult.GetValue(SlowDevice)!,
                Devices = Given(Devices) || Given(Servers) || Given(Fraction) ? List(parseResult.GetValue(Devices)) : setup.Devices,
                Clients = Given(Clients) || parseResult.GetValue(Scenario) is null ? parseResult.GetValue(Clients) : setup.Clients,
                PromptTokens = Given(Prompt) || parseResult.GetValue(Scenario) is null ? parseResult.GetValue(Prompt) : setup.PromptTokens,
                OutputTokens = Given(Output) || parseResult.GetValue(Scenario) is null ? parseResult.GetValue(Output) : setup.OutputTokens,
                Costs = Given(Costs) || parseResult.GetValue(Scenario) is null ? parseResult.GetValue(Costs)! : setup.Costs,
                Model = Given(Model) || parseResult.GetValue(Scenario) is null ? parseResult.GetValue(Model)! : setup.Model,
                Precision = Given(Precision) || parseResult.GetValue(Scenario) is null ? PrecisionInfo.Parse(parseResult.GetValue(Precision), "--precision") : setup.Precision,
                PerTokenOverheadSeconds = OverheadSeconds(parseResult.GetValue(Overhead)),
                Forwarding = parseResult.GetValue(Forwarding) switch
                {
                    "hub" or "hub-and-spoke" or "client-relay" => ForwardingMode.HubAndSpoke,
                    "direct" or "push" => ForwardingMode.Direct,
                    var other => throw new StrataException($"--forwarding is '{other}'; expected hub (client relay) or direct (server-to-server push, PETALS 2.x's default)."),
                },
                ClusteredDelaysAreRtt = parseResult.GetValue(ClusteredDelays) switch
                {
                    "one-way" => false,
                    "rtt" => true,
                    var other => throw new StrataException($"--clustered-delays is '{other}'; expected one-way or rtt."),
                },
                PaperArtefacts = parseResult.GetValue(PaperArtefacts),
                Seed = seed,
            };
            placements = placements.Count > 0 ? placements : ["petals", "cg-bp"];
            routings = routings.Count > 0 ? routings : ["petals", "ws-rr"];
            foreach (var name in placements)
            {
                _ = PlacementPolicies.Names.Contains(name) ? name : throw new StrataException($"--placement names '{name}'; expected one of {string.Join(", ", PlacementPolicies.Names)}.");
            }

            foreach (var name in routings)
            {
                _ = RoutingPolicies.Names.Contains(name) ? name : throw new StrataException($"--routing names '{name}'; expected one of {string.Join(", ", RoutingPolicies.Names)}.");
            }

            var instance = setup.Build(catalog);
            var options = new SwarmSimulationOptions
            {
                RateRequestsPerSecond = rate,
                Requests = requests,
                Seed = seed,
                FailureRatePerSecond = parseResult.GetValue(FailRate),
                RejoinAfterSeconds = parseResult.GetValue(RejoinAfter) ?? double.PositiveInfinity,
                Churn = ParseChurn(List(parseResult.GetValue(Churn)), instance.Servers.Count),
                Waiting = parseResult.GetValue(Waiting) switch
                {
                    "petals" => SwarmWaiting.Petals,
                    "queue" => SwarmWaiting.Queue,
                    var other => throw new StrataException($"--waiting is '{other}'; expected petals (fail and retry) or queue."),
                },
                AnnouncePeriodSeconds = parseResult.GetValue(AnnouncePeriod),
            }.Validate();
            if (parseResult.GetValue(PaperArtefacts))
            {
                options = options.WithPaperArtefacts();
            }
            return (instance, placements, routings, options);
        }

        private static double OverheadSeconds(double ms) =>
            ms >= 0 && double.IsFinite(ms) ? ms / 1000 : throw new StrataException($"--overhead-ms is {ms}; expected a number >= 0.");

        private static List<string> List(string[]? values) =>
            [.. (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];

        private static ChurnEvent[] ParseChurn(IReadOnlyList<string> items, int servers) => [.. items.Select(item =>
        {
            var parts = item.Split(':');
            if (parts.Length != 3
                || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var time) || !(time >= 0) || !double.IsFinite(time)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var server) || server >= servers)
            {
                throw new StrataException($"--churn entry '{item}' is not TIME:SERVER:KIND; expected a time >= 0 in seconds, a server index from 0 to {servers - 1}, and fail, leave or join.");
            }

            var kind = parts[2] switch
            {
                "fail" => ChurnKind.Fail,
                "leave" => ChurnKind.Leave,
                "join" => ChurnKind.Join,
                _ => throw new StrataException($"--churn entry '{item}' has kind '{parts[2]}'; expected fail, leave or join."),
            };
            return new ChurnEvent(time, server, kind);
        })];
    }
}
