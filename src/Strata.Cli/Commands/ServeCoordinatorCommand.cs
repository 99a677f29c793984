using System.CommandLine;
using Strata.Core;
using Strata.Runtime.Coordination;

namespace Strata.Cli.Commands;

/// <summary><c>strata serve coordinator</c>: the registry of block servers, placement advice and routes.</summary>
internal static class ServeCoordinatorCommand
{
    public static Command Create(CliContext context)
    {
        var port = new Option<int>("--port") { Description = "TCP port on 127.0.0.1; 0 picks a free one (printed).", DefaultValueFactory = _ => 0, HelpName = "port" };
        var joinToken = new Option<string?>("--join-token") { Description = "Shared secret block servers must present to register (none by default).", HelpName = "token" };
        var heartbeatMs = new Option<int>("--heartbeat-ms") { Description = "Heartbeat interval servers are asked for, milliseconds; a server silent for 3 intervals is dropped.", DefaultValueFactory = _ => 2000, HelpName = "ms" };
        var quarantineReports = new Option<int>("--quarantine-reports") { Description = "Distinct client hosts that must report a server (for a rejected reply) before no route goes through it.", DefaultValueFactory = _ => 1, HelpName = "n" };
        var command = new Command("coordinator", "Run the coordinator: registry (heartbeats), placement for --auto servers, routes for clients.")
        {
            port, joinToken, heartbeatMs, quarantineReports,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var p = ServeCommand.Port(parseResult.GetValue(port));

            var interval = parseResult.GetValue(heartbeatMs);
            if (interval is < 10 or > 3_600_000)
            {
                throw new StrataException($"--heartbeat-ms is {interval}; expected 10 to 3600000.");
            }

            var reports = parseResult.GetValue(quarantineReports);
            if (reports < 1)
            {
                throw new StrataException($"--quarantine-reports is {reports}; expected at least 1.");
            }

            var log = context.Error;
            var options = new CoordinatorOptions
            {
                JoinToken = parseResult.GetValue(joinToken),
                HeartbeatInterval = TimeSpan.FromMilliseconds(interval),
                QuarantineReportThreshold = reports,
                Log = line =>
                {
                    lock (log)
                    {
                        log.WriteLine(line);
                        log.Flush();
                    }
                },
            };
            await using var host = await CoordinatorHost.StartAsync(p, options, cancellationToken: cancellationToken).ConfigureAwait(false);
            context.Output.WriteLine(ServeCommand.ListeningLine(host.Address));
            context.Output.Flush();
            await ServeCommand.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
