using System.CommandLine;
using System.Globalization;
using Grpc.Core;
using Strata.Cli.Output;
using Strata.Core;
using Strata.Core.Placement;
using Strata.Performance.Profiles;
using Strata.Planning.Live;
using Strata.Planning.Routing;
using Strata.Runtime.Coordination;
using Strata.Runtime.Protocol;
using Strata.Runtime.Serving;
using Strata.Runtime.Tokenization;
using Strata.Runtime.Weights;
using Strata.Simulation.Live;

namespace Strata.Cli.Commands;

/// <summary><c>strata predict</c>: what a generation through a live swarm will take, routed as the coordinator routes it and timed by a runtime profile.</summary>
internal static class PredictCommand
{
    public static Command Create(CliContext context)
    {
        var coordinator = new Option<string>("--coordinator") { Description = "The live swarm's coordinator URL.", Required = true, HelpName = "url" };
        var model = new Option<string>("--model") { Description = "Model folder (its config and tokenizer).", Required = true, HelpName = "dir" };
        var profile = new Option<string>("--device-profile") { Description = "Runtime profile from 'strata profile runtime'.", Required = true, HelpName = "file" };
        var prompt = new Option<string>("--prompt") { Description = "Prompt text.", Required = true, HelpName = "text" };
        var output = new Option<int>("--output") { Description = "Tokens to generate, the first included.", DefaultValueFactory = _ => 32, HelpName = "n" };
        var concurrency = new Option<int>("--concurrency") { Description = "Sessions started at once (1 to 64); each is routed as the coordinator would, in turn.", DefaultValueFactory = _ => 1, HelpName = "c" };
        var routing = new Option<string>("--routing") { Description = "The routing policy the generations will use.", DefaultValueFactory = _ => LiveRouting.DefaultPolicy, HelpName = string.Join("|", RoutingPolicies.Names) };
        routing.AcceptOnlyFromAmong([.. RoutingPolicies.Names]);
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var tlsFlags = new TlsFlags(serves: false, connectsTo: "the coordinator and block servers");
        var command = new Command("predict", "Predict TTFT, TPOT and end-to-end time of generations through a live swarm: its placement, load and measured round trips, the same routing policy, a runtime profile.")
        {
            coordinator, model, profile, prompt, output, concurrency, routing, json,
        };
        tlsFlags.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var c = parseResult.GetValue(concurrency);
            var n = parseResult.GetValue(output);
            if (c is < 1 or > 64 || n is < 1 or > 100_000)
            {
                throw new StrataException($"--concurrency is {c} and --output {n}; expected 1 to 64 and 1 to 100000.");
            }

            var directory = parseResult.GetValue(model)!;
            var config = ModelFolder.LoadConfig(directory);
            var promptTokens = Math.Max(1, TokenizerLoader.Load(directory, config).Encode(parseResult.GetValue(prompt)!).Count);
            var runtime = RuntimeProfile.Load(parseResult.GetValue(profile)!);
            var tls = tlsFlags.Read(parseResult);
            using var client = new CoordinatorClient(ServeCommand.CoordinatorUrl(parseResult.GetValue(coordinator)!), tls: tls);
            IReadOnlyList<ServerEntry> entries;
            try
            {
                entries = [.. (await client.ListServersAsync(cancellationToken).ConfigureAwait(false))
                    .Where(e => e.LayerCount == config.LayerCount && e.ModelName == config.Architecture.Name)];
            }
            catch (RpcException e)
            {
                throw new StrataException($"The coordinator at {client.Address} answered {e.StatusCode}: {e.Status.Detail}");
            }

            var rtts = await MeasureRttsAsync(entries, tls, cancellationToken).ConfigureAwait(false);
            var outcome = Predict(entries, rtts, config.LayerCount, 2L * (promptTokens + n) * config.KeyValueDimension * sizeof(float), promptTokens, n, c,
                parseResult.GetValue(routing)!, runtime);
            if (parseResult.GetValue(json))
            {
                Json.Write(context.Output, outcome);
                return 0;
            }

            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{outcome.Routing}: TTFT {outcome.TtftSeconds * 1e3:F1} ms, TPOT {outcome.TpotSeconds * 1e3:F1} ms, end to end {outcome.E2eSeconds * 1e3:F1} ms over {string.Join(" -> ", outcome.Route.Select(h => $"{h.Server}[{h.FirstBlock},{h.FirstBlock + h.BlockCount})"))} (mean of {c} sessions)."));
            return 0;
        });
        return command;
    }

    /// <summary>The prediction as printed.</summary>
    internal sealed record Outcome(string Routing, int Concurrency, int PromptTokens, int OutputTokens, double TtftSeconds, double TpotSeconds, double E2eSeconds,
        IReadOnlyList<RouteHopOut> Route, IReadOnlyList<LiveSessionPrediction> Sessions, IReadOnlyList<LiveServerBatches> Batches);

    /// <summary>One hop of the first session's route, as the JSON output names it (<c>firstBlock</c>, <c>blockCount</c>).</summary>
    internal sealed record RouteHopOut(string Server, int FirstBlock, int BlockCount, double RttSeconds);

    /// <summary>Routes <paramref name="concurrency"/> sessions over the snapshot in turn, as the coordinator does (each reserves cache until the next heartbeat), and predicts them.</summary>
    internal static Outcome Predict(
        IReadOnlyList<ServerEntry> entries, IReadOnlyDictionary<string, double> rtts, int layers, long kvBytesPerBlock, int promptTokens, int outputTokens, int concurrency,
        string routing, RuntimeProfile profile, double verifyFraction = CoordinatedChainOptions.DefaultVerifyFraction)
    {
        var pending = entries.ToDictionary(e => e.ServerId, _ => 0, StringComparer.Ordinal);
        var plans = new List<LiveSessionPlan>();
        IReadOnlyList<RouteHopOut>? first = null;
        var options = new CoordinatorOptions().Routing;
        // A measured round trip includes one small call's gRPC overhead, which the profile's hop overhead already prices as compute.
        // A server that announces an emulated round trip delays its replies with a timer: a step's wait there also pays
        // what the profile measured such a delay to cost a step of that many blocks beyond the probe.
        var emulated = entries.ToDictionary(e => e.ServerId, e => e.EmulatedRttSeconds, StringComparer.Ordinal);
        double Wait(LiveServer server, int blocks) =>
            Math.Max(0, server.RttSeconds - profile.HopOverheadSeconds) + profile.DelayedStepExtra(blocks, emulated.GetValueOrDefault(server.Id));
        for (var s = 0; s < concurrency; s++)
        {
            var servers = entries.Select(e => e.ToLive(rtts.TryGetValue(e.ServerId, out var r) ? r : null) with { PendingSessions = e.PendingSessions + pending[e.ServerId] }).ToArray();
            var route = LiveRouting.Route(servers, new LiveRouteRequest(BlockRange.All(layers), ServerPhase.Both, kvBytesPerBlock, promptTokens, outputTokens), routing, options)
                ?? throw new StrataException($"No chain of live servers covers the {layers} blocks of the model; start block servers for the missing blocks.");
            foreach (var hop in route.Hops)
            {
                pending[hop.Server.Id]++;
            }

            first ??= [.. route.Hops.Select(h => new RouteHopOut(h.Server.Id, h.Blocks.First, h.Blocks.Count, h.Server.RttSeconds))];
            plans.Add(new LiveSessionPlan([.. route.Hops.Select(h => (h.Blocks.Count, Wait(h.Server, h.Blocks.Count)))], promptTokens, outputTokens,
                [.. route.Hops.Select(h => h.Server.Id)], verifyFraction,
                // A spot check reruns the hop on another server holding its blocks (the nearest), when there is one.
                [.. route.Hops.Select(h => servers.Where(s => s.Id != h.Server.Id && s.Blocks.Contains(h.Blocks))
                    .Select(s => Wait(s, h.Blocks.Count))
                    .DefaultIfEmpty(double.NaN).Min())]));
        }

        // The decode batches it expects at each server: checkable against the servers' strata_block_decode_batch_size.
        var (predictions, batches) = LoopbackClusterPredictor.PredictWithBatches(profile, plans);
        return new Outcome(routing, concurrency, promptTokens, outputTokens, predictions.Average(p => p.TtftSeconds), predictions.Average(p => p.TpotSeconds),
            predictions.Average(p => p.E2eSeconds), first!, predictions, batches);
    }

    /// <summary>The client's round trip to each server, as a client measures it (BlockServerClient.MeasureRoundTripSecondsAsync); servers that do not answer are left out.</summary>
    internal static async Task<IReadOnlyDictionary<string, double>> MeasureRttsAsync(IEnumerable<ServerEntry> entries, Runtime.Security.TlsOptions? tls, CancellationToken cancellationToken)
    {
        var rtts = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (!Uri.TryCreate(entry.Url, UriKind.Absolute, out var url))
            {
                continue;
            }

            using var server = new BlockServerClient(url, deadline: TimeSpan.FromSeconds(2), tls: tls);
            try
            {
                rtts[entry.ServerId] = await server.MeasureRoundTripSecondsAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException)
            {
                // Not answering: the announced delay stands in.
            }
        }

        return rtts;
    }
}
