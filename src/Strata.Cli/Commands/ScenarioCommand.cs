using System.CommandLine;
using Spectre.Console;
using Strata.Cli.Output;
using Strata.Core.Scenarios;

namespace Strata.Cli.Commands;

/// <summary><c>strata scenario check</c>: validate a scenario file and show what it describes.</summary>
internal static class ScenarioCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<string>("file") { Description = "A scenario YAML file (see docs/scenarios.md)." };
        var json = new Option<bool>("--json") { Description = "Print a JSON summary instead of a table." };
        var check = new Command("check", "Validate a scenario file: every error names the file, line, field, value and what was expected.") { file, json };
        check.SetAction(parseResult =>
        {
            var scenario = ScenarioLoader.Load(parseResult.GetValue(file)!, context.Catalog(parseResult));
            if (parseResult.GetValue(json))
            {
                Json.Write(context.Output, Summary(scenario));
            }
            else
            {
                Render(context.Console, scenario);
            }

            return 0;
        });
        var command = new Command("scenario", "Work with scenario files: the YAML that simulate, swarm, split study and provision share.");
        command.Subcommands.Add(check);
        return command;
    }

    private static object Summary(Scenario s) => new
    {
        valid = true,
        name = s.Name,
        description = s.Description,
        seed = s.Seed,
        models = s.Models.Select(m => m.Id),
        machines = s.Machines.Select(m => new { id = m.Id, machine = m.Machine.Id.Value, count = m.Count, role = m.Role.ToString().ToLowerInvariant() }),
        clients = s.Clients.Select(c => new { id = c.Id, device = c.Device.Id.Value, share = c.Share, link = c.Link.Id }),
        links = s.Links.Select(l => new { id = l.Id, latencySeconds = l.Spec.LatencySeconds, bandwidthBytesPerSecond = l.Spec.BandwidthBytesPerSecond }),
        topology = s.Topology?.Preset.ToString().ToLowerInvariant(),
        workload = s.Workload is { } w ? new { trace = w.Trace?.DisplayName, rateRequestsPerSecond = w.RateRequestsPerSecond, durationSeconds = w.DurationSeconds, requests = w.Requests } : null,
        slos = new { classes = s.Slos.Classes.Select(c => c.Id), slowdown = s.Slos.Slowdown.ToString().ToLowerInvariant() },
        policies = s.Policies,
    };

    private static void Render(IAnsiConsole console, Scenario s)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(s.Name)}[/]: valid").AddColumn("Part").AddColumn("Contents");
        table.AddRow("Models", Markup.Escape(string.Join(", ", s.Models.Select(m => m.Id))));
        table.AddRow("Machines", Markup.Escape(string.Join(", ", s.Machines.Select(m => $"{m.Id}: {m.Count} x {m.Machine.Id} ({m.Role.ToString().ToLowerInvariant()})"))));
        table.AddRow("Clients", Markup.Escape(string.Join(", ", s.Clients.Select(c => $"{c.Id}: {c.Device.Id} on {c.Link.Id}, {c.Share:P0}"))));
        table.AddRow("Links", Markup.Escape(string.Join(", ", s.Links.Select(l => $"{l.Id}: {Units.Seconds(l.Spec.LatencySeconds)}, {l.Spec.BandwidthBytesPerSecond * 8 / 1e6:F0} Mbit/s"))));
        table.AddRow("Workload", s.Workload is { } w
            ? Markup.Escape(w.IsTrace ? $"trace {w.Trace!.DisplayName}, rate {w.RateRequestsPerSecond?.ToString() ?? "as recorded"} req/s" : $"synthetic {w.Arrivals.ToString().ToLowerInvariant()}, {w.RateRequestsPerSecond} req/s")
            : "-");
        table.AddRow("Policies", Markup.Escape(string.Join("; ", new[] { ("designs", s.Policies.Designs), ("placement", s.Policies.Placement), ("routing", s.Policies.Routing), ("split", s.Policies.Split) }
            .Where(p => p.Item2.Count > 0).Select(p => $"{p.Item1}: {string.Join(", ", p.Item2)}"))));
        console.Write(table);
    }
}
