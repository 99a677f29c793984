using System.CommandLine;
using Spectre.Console;
using Strata.Cli.Output;
using Strata.Cli.Reports;
using Strata.Core;
using Strata.Core.Scenarios;
using Strata.Core.Workload;
using Strata.Performance.Estimation;
using Strata.Planning.Pools;
using Strata.Simulation.Cluster;
using Strata.Simulation.Metrics;
using Strata.Simulation.Runs;
using Strata.Simulation.Workloads;

namespace Strata.Cli.Commands;

/// <summary><c>strata simulate</c>: run a workload through a cluster design in the discrete-event simulator.</summary>
internal static class SimulateCommand
{
    public static Command Create(CliContext context)
    {
        var trace = new Option<string?>("--trace") { Description = "Trace whose (prompt, output) rows the requests draw (and whose arrivals --arrivals trace replays): code, conv (Azure LLM 2023) or a CSV path (TIMESTAMP,ContextTokens,GeneratedTokens). Default: rows of conv.", HelpName = "name" };
        var rate = new Option<double?>("--rate") { Description = "Arrival rate, requests per second: Poisson or Gamma arrivals are drawn at it, a replayed trace is rescaled to it. Default with --trace: the trace's mean rate.", HelpName = "rps" };
        var workload = new WorkloadFlags();
        var duration = workload.Duration;
        var requests = new Option<int?>("--requests") { Description = "Stop after this many requests.", HelpName = "n" };
        var model = new Option<string>("--model") { Description = "Model: catalog id or config.json path.", DefaultValueFactory = _ => "llama-2-70b", HelpName = "id" };
        var design = new Option<string>("--design") { Description = $"Cluster design: {string.Join(", ", ClusterDesigns.Names)}.", DefaultValueFactory = _ => "baseline-h100", HelpName = "name" };
        design.AcceptOnlyFromAmong([.. ClusterDesigns.Names]);
        var machines = new Option<int?>("--machines") { Description = "Machines of a baseline design (default 40).", HelpName = "n" };
        var promptMachines = new Option<int?>("--prompt-machines") { Description = "Prompt machines of a Splitwise design.", HelpName = "n" };
        var tokenMachines = new Option<int?>("--token-machines") { Description = "Token machines of a Splitwise design.", HelpName = "n" };
        var routing = new Option<string?>("--routing") { Description = "Routing of a baseline design: shortest-queue (default), round-robin, least-loaded.", HelpName = "name" };
        var prompt = new Option<int?>("--prompt") { Description = "Synthetic workload: fixed prompt tokens (default: sampled from the conv trace).", HelpName = "tokens" };
        var output = new Option<int?>("--output") { Description = "Synthetic workload: fixed output tokens (default: sampled from the conv trace).", HelpName = "tokens" };
        var arrivals = workload.Arrivals;
        var burstiness = new Option<double>("--burstiness") { Description = "Gamma arrivals: squared coefficient of variation of the gaps (1 = Poisson).", DefaultValueFactory = _ => 1.0, HelpName = "cv2" };
        var profile = new Option<string>("--profile") { Description = "Performance model of the machines: roofline (calibrated) or measured.", DefaultValueFactory = _ => "roofline", HelpName = "kind" };
        profile.AcceptOnlyFromAmong("roofline", "measured");
        var perf = new Option<string?>("--perf") { Description = "Step pricing: roofline, measured, or splitwisesim-db (SplitwiseSim's database lookup). Overrides --profile.", HelpName = "kind" };
        perf.AcceptOnlyFromAmong("roofline", "measured", "splitwisesim-db");
        var batching = new Option<string?>("--batching") { Description = "Batch formation: mixed (default), prefill-first, chunked, splitwise-mls.", HelpName = "policy" };
        batching.AcceptOnlyFromAmong("mixed", "prefill-first", "chunked", "splitwise-mls");
        var tokenBudget = new Option<int?>("--token-budget") { Description = "Most tokens per iteration (default 2048).", HelpName = "tokens" };
        var maxSeqs = new Option<int?>("--max-seqs") { Description = "Most sequences per iteration (default 256).", HelpName = "n" };
        var memoryUtil = new Option<double?>("--memory-util") { Description = "Share of device memory for weights and KV cache (default 0.9).", HelpName = "fraction" };
        var kvTransfer = new Option<string?>("--kv-transfer") { Description = "KV transfer rule: all-links (default), one-link, fixed (SplitwiseSim: after prefill at --kv-rate GiB/s).", HelpName = "rule" };
        kvTransfer.AcceptOnlyFromAmong("all-links", "one-link", "fixed");
        var kvRate = new Option<double?>("--kv-rate") { Description = "Rate of the fixed KV-transfer rule, GiB/s (default 200).", HelpName = "gibps" };
        var lengths = workload.Lengths;
        var compat = new Option<string?>("--compat") { Description = "Preset of another simulator's rules: splitwisesim (perf, routing, batching, limits, KV transfer and workload construction). Flags given beside it override.", HelpName = "name" };
        compat.AcceptOnlyFromAmong("splitwisesim");
        var requestsCsv = new Option<string?>("--requests-csv") { Description = "Write one row per request (arrival, prompt, output, TTFT, E2E, machines, preemptions) to this CSV file.", HelpName = "file" };
        var iterationsCsv = new Option<string?>("--iterations-csv") { Description = "Write one row per iteration (machine, start, duration, prompt tokens, decodes) to this CSV file.", HelpName = "file" };
        var seed = workload.Seed;
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables." };
        var scenario = new Option<string?>("--scenario") { Description = "Run a scenario file instead of flags: each design it names (or its own machine pools) on its workload.", HelpName = "file" };
        var report = new Option<string?>("--report") { Description = "Write PNG charts (TTFT and E2E CDFs, throughput and latency against offered rate) and summary.md into this folder.", HelpName = "dir" };
        var sweep = new Option<string>("--sweep") { Description = "With --report: multiples of the offered rate to sweep for the rate charts (empty for none).", DefaultValueFactory = _ => "0.5,0.75,1,1.25,1.5", HelpName = "factors" };
        var command = new Command("simulate", "Simulate a workload on a cluster design (Splitwise phase splitting or baselines) and report latency percentiles, SLO attainment, throughput, cost and power.")
        {
            scenario, trace, rate, duration, requests, model, design, machines, promptMachines, tokenMachines, routing, prompt, output, arrivals, burstiness, profile, seed, json, report, sweep,
            perf, batching, tokenBudget, maxSeqs, memoryUtil, kvTransfer, kvRate, lengths, compat, requestsCsv, iterationsCsv,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(scenario) is not null && new Option[] { trace, rate, duration, requests, design, machines, promptMachines, tokenMachines }.Any(o => result.GetResult(o) is { Implicit: false }))
            {
                result.AddError("--scenario takes the workload and designs from the file; drop --trace, --rate, --duration, --requests, --design and the machine counts, or drop --scenario");
            }
        });
        command.SetAction((parseResult, cancellationToken) =>
        {
            var options = new SimulateOptions
            {
                Model = parseResult.GetValue(model)!,
                Design = parseResult.GetValue(design)!,
                Machines = parseResult.GetValue(machines),
                PromptMachines = parseResult.GetValue(promptMachines),
                TokenMachines = parseResult.GetValue(tokenMachines),
                Routing = parseResult.GetValue(routing),
                Profile = parseResult.GetValue(profile) == "measured" ? PerformanceProfile.Measured : PerformanceProfile.Roofline,
                Workload = workload.Build(
                    parseResult,
                    parseResult.GetValue(trace),
                    parseResult.GetValue(rate),
                    parseResult.GetValue(requests),
                    parseResult.GetValue(burstiness),
                    parseResult.GetValue(prompt) is { } p ? new LengthDistribution.Fixed(p) : null,
                    parseResult.GetValue(output) is { } o ? new LengthDistribution.Fixed(o) : null),
            };
            options = SimulationFlags.Apply(options, parseResult.GetValue(compat), parseResult.GetValue(perf), parseResult.GetValue(batching), parseResult.GetValue(tokenBudget), parseResult.GetValue(maxSeqs), parseResult.GetValue(memoryUtil), parseResult.GetValue(kvTransfer), parseResult.GetValue(kvRate), parseResult.GetValue(lengths), parseResult.GetValue(arrivals));
            var requestsCsvPath = parseResult.GetValue(requestsCsv);
            var iterationsCsvPath = parseResult.GetValue(iterationsCsv);
            options = options with { Cluster = options.Cluster with { KeepRequestOutcomes = options.Cluster.KeepRequestOutcomes || requestsCsvPath is not null, KeepIterations = iterationsCsvPath is not null } };
            var reportDirectory = parseResult.GetValue(report);
            var sweepFactors = reportDirectory is null ? [] : ParseFactors(parseResult.GetValue(sweep)!);
            var catalog = context.Catalog(parseResult);
            var scenarioPath = parseResult.GetValue(scenario);
            Scenario? loaded = scenarioPath is null ? null : ScenarioLoader.Load(scenarioPath, catalog);
            var runs = loaded is null ? [(options.Design, options)] : ScenarioSimulation.Plan(loaded);
            if (reportDirectory is not null)
            {
                runs = [.. runs.Select(r => (r.Label, r.Options with { Cluster = r.Options.Cluster with { KeepRequestOutcomes = true } }))];
            }

            catalog = loaded?.Catalog ?? catalog;
            var results = new List<(string Label, SimulationResult Result)>();
            var sweepPoints = new List<RateSweepPoint>();
            var sweepRuns = reportDirectory is null ? [] : SweepRuns(runs, sweepFactors);
            var asJson = parseResult.GetValue(json);
            var pricing = runs.Select(r => SimulationService.Pricing(r.Item2, catalog)).ToArray();
            if (asJson)
            {
                foreach (var (label, run) in runs)
                {
                    results.Add((label, SimulationService.Run(run, catalog, cancellationToken: cancellationToken)));
                }

                foreach (var (label, rateRps, run) in sweepRuns)
                {
                    sweepPoints.Add(new RateSweepPoint(label, rateRps, SimulationService.Run(run, catalog, cancellationToken: cancellationToken)));
                }
            }
            else
            {
                context.Console.Progress().AutoClear(true).Start(progress =>
                {
                    foreach (var (label, run) in runs)
                    {
                        var task = progress.AddTask($"Simulating {label}", maxValue: 1.0);
                        results.Add((label, SimulationService.Run(run, catalog, new Progress(task), cancellationToken)));
                    }

                    foreach (var (label, rateRps, run) in sweepRuns)
                    {
                        var task = progress.AddTask($"Sweep {label} at {rateRps:G4} req/s", maxValue: 1.0);
                        sweepPoints.Add(new RateSweepPoint(label, rateRps, SimulationService.Run(run, catalog, new Progress(task), cancellationToken)));
                    }
                });
            }

            if (requestsCsvPath is not null)
            {
                SimulationCsv.WriteRequests(requestsCsvPath, results[0].Result);
            }

            if (iterationsCsvPath is not null)
            {
                SimulationCsv.WriteIterations(iterationsCsvPath, results[0].Result);
            }

            IReadOnlyList<string> written = reportDirectory is null
                ? []
                : SimulationReport.Write(reportDirectory, [.. results.Select(r => new ReportRun(r.Label, r.Result))], sweepPoints);
            if (asJson)
            {
                var payload = loaded is null
                    ? ToJson(results[0].Result, pricing[0], SplitwiseSimCompat.Rules(options), options.Workload)
                    : new { scenario = loaded.Name, results = results.Select((r, i) => ToJson(r.Result, pricing[i], SplitwiseSimCompat.Rules(runs[i].Item2), runs[i].Item2.Workload)) };
                Json.Write(context.Output, reportDirectory is null ? payload : new { result = payload, report = written });
                return Task.FromResult(0);
            }

            for (var i = 0; i < results.Count; i++)
            {
                foreach (var rule in SplitwiseSimCompat.Rules(runs[i].Item2))
                {
                    context.Console.MarkupLine($"[grey]{Markup.Escape(rule)}[/]");
                }

                Render(context.Console, results[i].Result, runs[i].Item2.Slo);
                Pricing.Render(context.Console, pricing[i]);
            }

            foreach (var path in written)
            {
                context.Console.MarkupLine($"Wrote [blue]{Markup.Escape(path)}[/]");
            }

            return Task.FromResult(0);
        });
        return command;
    }

    private static double[] ParseFactors(string text)
    {
        var factors = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var factor) || !(factor > 0) || double.IsInfinity(factor))
            {
                throw new StrataException($"--sweep: '{part}' is not a positive number; expected multiples of the offered rate such as 0.5,1,1.5.");
            }

            factors.Add(factor);
        }

        return [.. factors.Distinct().Order()];
    }

    private static List<(string Label, double RateRps, SimulateOptions Options)> SweepRuns(IReadOnlyList<(string Label, SimulateOptions Options)> runs, double[] factors)
    {
        var sweepRuns = new List<(string, double, SimulateOptions)>();
        foreach (var (label, run) in runs)
        {
            if (run.Workload.RateRequestsPerSecond is not { } rateRps)
            {
                continue; // recorded arrivals at their own rate: nothing to scale
            }

            foreach (var factor in factors)
            {
                var scaled = run with
                {
                    Workload = run.Workload with { RateRequestsPerSecond = rateRps * factor },
                    Cluster = run.Cluster with { KeepRequestOutcomes = false },
                };
                sweepRuns.Add((label, rateRps * factor, scaled));
            }
        }

        return sweepRuns;
    }

    internal static object ToJson(SimulationResult r, IReadOnlyList<ScoredModel> pricing, IReadOnlyList<string>? rules = null, WorkloadOptions? workload = null) => new
    {
        rules,
        workload = workload is null ? null : WorkloadFlags.Json(workload),
        design = r.Design,
        pricedBy = Pricing.Json(pricing),
        scheduler = r.Scheduler,
        requests = r.Requests,
        completed = r.Completed,
        failed = r.Failed,
        ttftSeconds = Latency(r.Ttft),
        tbtSeconds = Latency(r.Tbt),
        tpotSeconds = Latency(r.Tpot),
        e2eSeconds = Latency(r.E2e),
        queueingSeconds = Latency(r.Queueing),
        kvTransferSeconds = Latency(r.KvTransfer),
        sloAttainment = r.SloAttainment,
        goodputRequestsPerSecond = r.GoodputRequestsPerSecond,
        splitwiseSlo = new { met = r.MeetsSplitwiseSlo, checks = r.SplitwiseSlo.Select(c => new { metric = c.Metric, percentile = c.Percentile, slowdown = c.Slowdown, limit = c.Limit, met = c.Met }) },
        throughputRequestsPerSecond = r.ThroughputRequestsPerSecond,
        throughputTokensPerSecond = r.ThroughputTokensPerSecond,
        machineUtilization = r.MachineUtilization,
        machines = r.Machines,
        costPerHour = r.CostPerHour,
        powerWatts = r.PowerWatts,
        simulatedSeconds = r.SimulatedSeconds,
        iterations = r.Iterations,
        preemptions = r.Preemptions,
        kvBlocksInUseAtEnd = r.KvBlocksInUseAtEnd,
        wallSeconds = r.WallSeconds,
    };

    private static object? Latency(LatencySummary s) =>
        s.Count == 0 ? null : new { p50 = s.P50, p90 = s.P90, p99 = s.P99, mean = s.Mean, max = s.Max, count = s.Count, exact = s.Exact };

    private static void Render(IAnsiConsole console, SimulationResult r, ServiceLevelObjective slo)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]{Markup.Escape(r.Design)}[/] ({r.Machines} machines, {Markup.Escape(r.Scheduler)}): {r.Completed:N0} of {r.Requests:N0} requests completed")
            .AddColumn("Latency").AddColumn(R("P50")).AddColumn(R("P90")).AddColumn(R("P99")).AddColumn(R("Mean"));
        foreach (var (name, s) in new[] { ("TTFT", r.Ttft), ("TBT (every gap)", r.Tbt), ("TPOT (per request)", r.Tpot), ("E2E", r.E2e), ("Queueing", r.Queueing), ("KV transfer", r.KvTransfer) })
        {
            table.AddRow(name, Units.Seconds(s.P50), Units.Seconds(s.P90), Units.Seconds(s.P99), Units.Seconds(s.Mean));
        }

        console.Write(table);
        var summary = new Table().Border(TableBorder.Rounded).AddColumn("Quantity").AddColumn(R("Value"));
        summary.AddRow($"SLO attainment ({Markup.Escape(SloText(slo))})", Units.Percent(r.SloAttainment * 100));
        summary.AddRow("Goodput (within the SLO, same window as throughput)", Units.Rate(r.GoodputRequestsPerSecond, "requests"));
        summary.AddRow("Splitwise SLOs (Table VI)", r.MeetsSplitwiseSlo ? $"[green]{SloChecks.Count(r)}[/]" : $"[red]{SloChecks.Count(r)}[/]");
        summary.AddRow($"Throughput (over {r.SimulatedSeconds:F0} s: first arrival to last completion)", $"{Units.Rate(r.ThroughputRequestsPerSecond, "requests")}, {Units.Rate(r.ThroughputTokensPerSecond, "tokens")}");
        summary.AddRow("Machine utilisation", Units.Percent(r.MachineUtilization * 100));
        summary.AddRow("Cost / power", $"${r.CostPerHour:F1}/h, {r.PowerWatts / 1000:F1} kW");
        summary.AddRow("Preemptions", r.Preemptions.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (reason, count) in r.Failed)
        {
            summary.AddRow($"[red]Failed: {Markup.Escape(reason)}[/]", count.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        }

        summary.AddRow("Simulated / wall time", $"{r.SimulatedSeconds:F0} s / {r.WallSeconds:F2} s");
        console.Write(summary);
        console.WriteLine($"Splitwise SLO checks: {SloChecks.Count(r)}");
        foreach (var check in SloChecks.Lines(r))
        {
            console.WriteLine("- " + check);
        }
    }

    /// <summary>The absolute SLO in words, from the run's own targets (a scenario may set its own).</summary>
    private static string SloText(ServiceLevelObjective slo)
    {
        var parts = new List<string>();
        if (slo.TtftSeconds is { } ttft)
        {
            parts.Add($"TTFT <= {Units.Seconds(ttft)}");
        }

        if (slo.TbtSeconds is { } tpot)
        {
            parts.Add($"TPOT <= {Units.Seconds(tpot)}");
        }

        if (slo.E2eSeconds is { } e2e)
        {
            parts.Add($"E2E <= {Units.Seconds(e2e)}");
        }

        return parts.Count == 0 ? "no targets" : string.Join(", ", parts);
    }

    private static TableColumn R(string header) => new TableColumn(header).RightAligned();

    private sealed class Progress(ProgressTask task) : IProgress<double>
    {
        public void Report(double value) => task.Value = value;
    }
}
