using System.CommandLine;
using Grpc.Core;
using Strata.Core;
using Strata.Runtime.Coordination;
using Strata.Runtime.Observability;

namespace Strata.Cli.Commands;

/// <summary><c>strata serve coordinator</c>: the registry of block servers, placement advice and routes.</summary>
internal static class ServeCoordinatorCommand
{
    public static Command Create(CliContext context)
    {
        var port = new Option<int>("--port") { Description = "TCP port on --host; 0 picks a free one (printed).", DefaultValueFactory = _ => 0, HelpName = "port" };
        var host = ServeCommand.HostOption();
        var advertise = ServeCommand.AdvertiseOption("printed for block servers, gateways and clients to reach this coordinator");
        var joinToken = new Option<string?>("--join-token") { Description = "Shared secret block servers must present to register (none by default).", HelpName = "token" };
        var heartbeatMs = new Option<int>("--heartbeat-ms") { Description = "Heartbeat interval servers are asked for, milliseconds; a server silent for 3 intervals is dropped.", DefaultValueFactory = _ => 2000, HelpName = "ms" };
        var quarantineReports = new Option<int>("--quarantine-reports") { Description = "Distinct client hosts that must report a server (for a rejected reply) before no route goes through it.", DefaultValueFactory = _ => 1, HelpName = "n" };
        var promptQueue = new Option<long>("--prompt-queue-tokens")
        {
            Description = "Phase splits (Splitwise): past this many pending prompt tokens on the prefill chain, a decode chain with a shorter prompt queue runs the whole session (mixed).",
            DefaultValueFactory = _ => new CoordinatorOptions().PromptQueueThresholdTokens,
            HelpName = "tokens",
        };
        var kvThreshold = new Option<double>("--decode-kv-threshold")
        {
            Description = "Phase splits (Splitwise): past this share of KV memory in use on the decode chain, the prefill chain decodes too (nothing moves); 0 to 1.",
            DefaultValueFactory = _ => new CoordinatorOptions().TokenKvThreshold,
            HelpName = "share",
        };
        var registry = new Option<string?>("--registry")
        {
            Description = "Keep the registry in etcd, shared with other coordinators: etcd://HOST:PORT[,HOST:PORT...]. A server's entry lives under a lease of 3 heartbeat intervals. In this process's memory by default.",
            HelpName = "etcd://host:port,...",
        };
        var logLevel = ServeCommand.LogLevelOption("joins, leaves, placements, quarantines, fail-overs");
        var metricsPort = ServeCommand.MetricsPortOption();
        var tlsFlags = new TlsFlags(serves: true, connectsTo: null, metricsPort: true);
        var command = new Command("coordinator", "Run the coordinator: registry (heartbeats), placement for --auto servers, routes for clients.")
        {
            port, host, advertise, joinToken, heartbeatMs, quarantineReports, promptQueue, kvThreshold, registry, logLevel, metricsPort,
        };
        tlsFlags.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var p = ServeCommand.Port(parseResult.GetValue(port));
            var listen = ServeCommand.ListenAddress(parseResult.GetValue(host)!);
            var advertiseText = parseResult.GetValue(advertise);
            var advertiseUrl = ServeCommand.AdvertiseUrl(advertiseText);

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

            var queueTokens = parseResult.GetValue(promptQueue);
            if (queueTokens < 0)
            {
                throw new StrataException($"--prompt-queue-tokens is {queueTokens}; expected at least 0.");
            }

            var kvShare = parseResult.GetValue(kvThreshold);
            if (!(kvShare is >= 0 and <= 1))
            {
                throw new StrataException(FormattableString.Invariant($"--decode-kv-threshold is {kvShare}; expected a share of memory, 0 to 1."));
            }

            var metrics = ServeCommand.MetricsPort(parseResult.GetValue(metricsPort));
            var tls = tlsFlags.Read(parseResult);
            using var loggers = ServeCommand.Logging(context.Error, parseResult.GetValue(logLevel));
            var options = new CoordinatorOptions
            {
                JoinToken = parseResult.GetValue(joinToken),
                HeartbeatInterval = TimeSpan.FromMilliseconds(interval),
                QuarantineReportThreshold = reports,
                PromptQueueThresholdTokens = queueTokens,
                TokenKvThreshold = kvShare,
                Telemetry = new TelemetryOptions { LoggerFactory = loggers, MetricsPort = metrics },
                Tls = tls,
            };
            IServerRegistry? shared = null;
            var registryText = parseResult.GetValue(registry);
            if (registryText is not null)
            {
                var endpoints = EtcdRegistryOptions.ParseEndpoints(registryText);
                var leaseSeconds = Math.Max(2, (int)Math.Ceiling(options.HeartbeatTimeout.TotalSeconds));
                try
                {
                    shared = await EtcdServerRegistry.StartAsync(new EtcdRegistryOptions
                    {
                        Endpoints = endpoints,
                        ServerLeaseTtl = TimeSpan.FromSeconds(leaseSeconds),
                        QuarantineReportThreshold = reports,
                        LoggerFactory = loggers,
                    }, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (RpcException exception)
                {
                    throw new StrataException($"--registry {registryText}: no etcd member answered ({exception.StatusCode}: {exception.Status.Detail}); start etcd there or fix the addresses.");
                }
            }

            await using var coordinator = await CoordinatorHost.StartAsync(shared, p, options, listen, cancellationToken: cancellationToken).ConfigureAwait(false);
            context.Output.WriteLine(ServeCommand.ListeningLine(ServeCommand.Advertised(advertiseUrl, advertiseText, listen, coordinator.Address, tls)));
            if (coordinator.MetricsAddress is { } metricsAddress)
            {
                context.Output.WriteLine(ServeCommand.MetricsLine(metricsAddress));
            }

            context.Output.Flush();
            await ServeCommand.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
