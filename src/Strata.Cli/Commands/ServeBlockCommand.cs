using System.CommandLine;
using System.Globalization;
using Grpc.Core;
using Strata.Core;
using Strata.Core.Placement;
using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Observability;
using Strata.Runtime.Protocol;
using Strata.Runtime.Serving;
using Strata.Runtime.Weights;

namespace Strata.Cli.Commands;

/// <summary><c>strata serve block</c>: a block server that registers with a coordinator, heartbeats, and deregisters on shutdown.</summary>
internal static class ServeBlockCommand
{
    public static Command Create(CliContext context)
    {
        var coordinator = new Option<string>("--coordinator") { Description = "The coordinator's URL, for example http://127.0.0.1:50100; several (URL,URL,...) sharing one --registry are tried in turn.", Required = true, HelpName = "url" };
        var model = new Option<string>("--model") { Description = "Model folder: config.json + *.safetensors.", Required = true, HelpName = "dir" };
        var blocks = new Option<string?>("--blocks") { Description = "Blocks to host, FIRST:COUNT (for example 0:2).", HelpName = "first:count" };
        var auto = new Option<bool>("--auto") { Description = "Let the coordinator choose the blocks (PETALS: the weakest, uncovered first) for --memory-bytes, and move them when coverage changes." };
        var memoryBytes = new Option<long?>("--memory-bytes") { Description = "With --auto: memory for weights; blocks = memory / bytes per block (default: the whole model).", HelpName = "bytes" };
        var port = new Option<int>("--port") { Description = "TCP port on --host; 0 picks a free one (printed).", DefaultValueFactory = _ => 0, HelpName = "port" };
        var host = ServeCommand.HostOption();
        var advertise = ServeCommand.AdvertiseOption("registered with the coordinator, which clients and peer servers reach this server at");
        var role = new Option<string>("--role") { Description = "prefill, decode or both.", DefaultValueFactory = _ => "both", HelpName = "role" };
        role.AcceptOnlyFromAmong("prefill", "decode", "both");
        var joinToken = new Option<string?>("--join-token") { Description = "The coordinator's shared join token.", HelpName = "token" };
        var maxSessions = new Option<int>("--max-sessions") { Description = "Most sessions held at once.", DefaultValueFactory = _ => new BlockServerLimits().MaxSessions, HelpName = "n" };
        var maxKvBytes = new Option<long>("--max-kv-bytes") { Description = "KV-cache budget over all sessions; a step past it answers RESOURCE_EXHAUSTED.", DefaultValueFactory = _ => new BlockServerLimits().MaxKvBytes, HelpName = "bytes" };
        var perClient = new Option<int?>("--max-sessions-per-client")
        {
            Description = "Most sessions one client host may hold at once (default: no quota beyond --max-sessions; a gateway is one client for all its users).",
            HelpName = "n",
        };
        var idleTimeout = new Option<double>("--session-idle-timeout-seconds")
        {
            Description = "Evict a session unused for this long and free its KV memory (a client that vanished without closing).",
            DefaultValueFactory = _ => new BlockServerLimits().SessionIdleTimeout.TotalSeconds,
            HelpName = "s",
        };
        var emulateRtt = new Option<double>("--emulate-rtt-ms")
        {
            Description = "Delay every reply (and every bulk KV send) by this many milliseconds, so a swarm on one machine behaves like one spread over a WAN; announced to the coordinator. 0 to 10000.",
            DefaultValueFactory = _ => 0,
            HelpName = "ms",
        };
        var maxBatch = new Option<int>("--max-batch")
        {
            Description = "Most sessions' decode tokens run as one batched step (one pass over the weights); 1 runs each alone. 1 to 1024.",
            DefaultValueFactory = _ => new BlockServerLimits().MaxDecodeBatch,
            HelpName = "n",
        };
        var batchWait = new Option<double>("--batch-wait-ms")
        {
            Description = "Longest the first decode token of a step waits for other sessions' tokens (0: batch only what is queued). 0 to 1000.",
            DefaultValueFactory = _ => new BlockServerLimits().DecodeBatchWait.TotalMilliseconds,
            HelpName = "ms",
        };
        var returnWait = new Option<double>("--return-wait-ms")
        {
            Description = "Longest a decode step waits for the sessions of recent steps predicted back soon (it waits at most half the last step's time; 0: only --batch-wait-ms). 0 to 1000.",
            DefaultValueFactory = _ => new BlockServerLimits().DecodeReturnWait.TotalMilliseconds,
            HelpName = "ms",
        };
        var logLevel = ServeCommand.LogLevelOption("start, registration, refusals, evictions, fail-overs");
        var metricsPort = ServeCommand.MetricsPortOption();
        var tlsFlags = new TlsFlags(serves: true, connectsTo: "the coordinator and to peers' bulk KV ports", metricsPort: true);
        var command = new Command("block", "Run a block server: host a range of a model's blocks and serve them to clients over gRPC.")
        {
            coordinator, model, blocks, auto, memoryBytes, port, host, advertise, role, joinToken, maxSessions, maxKvBytes, perClient, idleTimeout, emulateRtt, maxBatch, batchWait, returnWait, logLevel, metricsPort,
        };
        tlsFlags.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var directory = parseResult.GetValue(model)!;
            var config = ModelFolder.LoadConfig(directory);
            var coordinatorUrls = ServeCommand.CoordinatorUrls(parseResult.GetValue(coordinator)!);
            var p = ServeCommand.Port(parseResult.GetValue(port));
            var listen = ServeCommand.ListenAddress(parseResult.GetValue(host)!);
            var advertiseText = parseResult.GetValue(advertise);
            var advertiseUrl = ServeCommand.AdvertiseUrl(advertiseText);

            var rttMs = parseResult.GetValue(emulateRtt);
            if (!double.IsFinite(rttMs) || rttMs < 0 || rttMs > 10_000)
            {
                throw new StrataException(string.Create(CultureInfo.InvariantCulture, $"--emulate-rtt-ms is {rttMs}; expected 0 to 10000 milliseconds."));
            }

            var idleSeconds = parseResult.GetValue(idleTimeout);
            if (!double.IsFinite(idleSeconds) || idleSeconds <= 0 || idleSeconds > 86_400)
            {
                throw new StrataException(string.Create(CultureInfo.InvariantCulture, $"--session-idle-timeout-seconds is {idleSeconds}; expected more than 0 and at most 86400 (a day)."));
            }

            var batch = parseResult.GetValue(maxBatch);
            var waitMs = parseResult.GetValue(batchWait);
            var returnMs = parseResult.GetValue(returnWait);
            if (batch < 1 || batch > 1024 || !double.IsFinite(waitMs) || waitMs < 0 || waitMs > 1000 || !double.IsFinite(returnMs) || returnMs < 0 || returnMs > 1000)
            {
                throw new StrataException(string.Create(CultureInfo.InvariantCulture,
                    $"--max-batch is {batch}, --batch-wait-ms {waitMs} and --return-wait-ms {returnMs}; expected 1 to 1024 sessions and 0 to 1000 milliseconds."));
            }

            var limits = new BlockServerLimits
            {
                MaxDecodeBatch = batch,
                DecodeBatchWait = TimeSpan.FromMilliseconds(waitMs),
                DecodeReturnWait = TimeSpan.FromMilliseconds(returnMs),
                MaxSessions = parseResult.GetValue(maxSessions),
                MaxKvBytes = parseResult.GetValue(maxKvBytes),
                MaxSessionsPerClient = parseResult.GetValue(perClient),
                SessionIdleTimeout = TimeSpan.FromSeconds(idleSeconds),
                EmulatedRtt = TimeSpan.FromMilliseconds(rttMs),
            };
            if (limits.MaxSessions < 1 || limits.MaxKvBytes < 1 || limits.MaxSessionsPerClient < 1)
            {
                throw new StrataException($"--max-sessions is {limits.MaxSessions}, --max-kv-bytes {limits.MaxKvBytes} and --max-sessions-per-client {limits.MaxSessionsPerClient}; each must be at least 1.");
            }

            var metrics = ServeCommand.MetricsPort(parseResult.GetValue(metricsPort));
            var tls = tlsFlags.Read(parseResult);
            using var loggers = ServeCommand.Logging(context.Error, parseResult.GetValue(logLevel));
            using var client = ServeCommand.Coordinators(coordinatorUrls, loggers, tls);
            var hosted = await ChooseBlocksAsync(parseResult.GetValue(blocks), parseResult.GetValue(auto), parseResult.GetValue(memoryBytes), config, client, cancellationToken)
                .ConfigureAwait(false);
            var movable = parseResult.GetValue(auto);
            string? serverId = null;
            while (true)
            {
                var served = new LlamaModel(config, LlamaWeightsLoader.Load(directory, config, hosted.First, hosted.Count, includeEmbeddingAndHead: false));
                await using var server = await BlockServerHost.StartAsync(served, p, listen, limits,
                    telemetry: new TelemetryOptions { LoggerFactory = loggers, MetricsPort = metrics }, tls: tls, cancellationToken: cancellationToken).ConfigureAwait(false);
                var agentOptions = new BlockServerAgentOptions
                {
                    Role = parseResult.GetValue(role) switch { "prefill" => ServerRole.Prefill, "decode" => ServerRole.Decode, _ => ServerRole.Both },
                    JoinToken = parseResult.GetValue(joinToken),
                    AdvertisedUrl = ServeCommand.Advertised(advertiseUrl, advertiseText, listen, server.Address, tls),
                    ServerId = serverId,
                    Movable = movable,
                    LoggerFactory = loggers,
                };
                BlockServerAgent agent;
                try
                {
                    agent = await BlockServerAgent.StartAsync(server, client, config.Architecture.Name, config.LayerCount, agentOptions, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (RpcException exception)
                {
                    throw new StrataException($"The coordinator at {client.Address} refused the registration ({exception.StatusCode}): {exception.Status.Detail}");
                }

                await using (agent.ConfigureAwait(false))
                {
                    if (serverId is null)
                    {
                        context.Output.WriteLine(ServeCommand.ListeningLine(agent.Url));
                        if (server.MetricsAddress is { } metricsAddress)
                        {
                            context.Output.WriteLine(ServeCommand.MetricsLine(metricsAddress));
                        }
                    }

                    context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"registered as {agent.ServerId} with {string.Join(',', coordinatorUrls.Select(u => u.Authority))}: blocks [{hosted.First}, {hosted.End}) of {config.LayerCount}, role {parseResult.GetValue(role)}"));
                    context.Output.Flush();
                    if (!await ServeCommand.WaitForShutdownAsync(agent.MoveRequested, cancellationToken).ConfigureAwait(false))
                    {
                        return 0;
                    }

                    // PETALS' rebalancing: leave (deregister), load the new blocks, come back on the same port under the same id.
                    var move = await agent.MoveRequested.ConfigureAwait(false);
                    context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"moving from blocks [{hosted.First}, {hosted.End}) to [{move.First}, {move.End}), as the coordinator asked"));
                    context.Output.Flush();
                    (hosted, p, serverId) = (move, server.Address.Port, agent.ServerId);
                }
            }
        });
        return command;
    }

    private static async Task<BlockRange> ChooseBlocksAsync(string? blocks, bool auto, long? memoryBytes, LlamaConfig config, CoordinatorClient client, CancellationToken cancellationToken)
    {
        if (auto == (blocks is not null))
        {
            throw new StrataException("Give exactly one of --blocks FIRST:COUNT and --auto.");
        }

        if (blocks is not null)
        {
            var parts = blocks.Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1 || (long)first + count > config.LayerCount)
            {
                throw new StrataException($"--blocks is '{blocks}'; expected FIRST:COUNT with COUNT >= 1 inside the model's {config.LayerCount} blocks (for example 0:{config.LayerCount}).");
            }

            return new BlockRange(first, count);
        }

        var blockBytes = LlamaWeightsLoader.BlockBytes(config);
        var memory = memoryBytes ?? (blockBytes * config.LayerCount);
        if (memory < blockBytes)
        {
            throw new StrataException($"--memory-bytes is {memory}; one block of this model needs {blockBytes} bytes.");
        }

        try
        {
            var place = await client.PlaceAsync(config.Architecture.Name, config.LayerCount, (int)Math.Min(config.LayerCount, memory / blockBytes), cancellationToken).ConfigureAwait(false);
            return new BlockRange(place.FirstBlock, place.BlockCount);
        }
        catch (RpcException exception)
        {
            throw new StrataException($"The coordinator at {client.Address} could not place this server ({exception.StatusCode}): {exception.Status.Detail}");
        }
    }
}
