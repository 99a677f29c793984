using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Strata.Cli.Output;
using Strata.Core;
using Strata.Planning.Live;
using Strata.Planning.Routing;
using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Sampling;

namespace Strata.Cli.Commands;

/// <summary><c>strata generate</c>: run one generation of a real model; <c>--local</c> runs every block in this process (the reference), <c>--coordinator</c> through the swarm.</summary>
internal static class GenerateCommand
{
    public static Command Create(CliContext context)
    {
        var local = new Option<bool>("--local") { Description = "Run every block in this process (the reference the distributed paths are checked against)." };
        var model = new Option<string>("--model") { Description = "Model folder: config.json + *.safetensors (+ tokenizer.json); see 'strata model init'.", Required = true, HelpName = "dir" };
        var prompt = new Option<string>("--prompt") { Description = "Prompt text.", Required = true, HelpName = "text" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 32, HelpName = "n" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the sampling stream (unused when greedy).", DefaultValueFactory = _ => 0, HelpName = "n" };
        var temperature = new Option<double>("--temperature") { Description = "Softmax temperature; 0 is greedy.", DefaultValueFactory = _ => 0, HelpName = "t" };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling: keep the most likely tokens up to this probability mass, (0, 1].", DefaultValueFactory = _ => 1, HelpName = "p" };
        var json = new Option<bool>("--json") { Description = "Print JSON: tokens, text, ttftSeconds, tpotSeconds, route." };
        var coordinator = new Option<string?>("--coordinator") { Description = "Run through the swarm of block servers this coordinator knows (its URL; several, URL,URL,..., sharing one --registry are tried in turn).", HelpName = "url" };
        var split = new Option<string>("--split") { Description = "With --coordinator: dp runs the blocks SplitLLM's DP assigns to the client in this process; none runs none.", DefaultValueFactory = _ => "none", HelpName = "dp|none" };
        split.AcceptOnlyFromAmong("dp", "none");
        var clientMemory = new Option<long?>("--client-memory-bytes") { Description = "With --split dp: memory for the client's blocks (weights and KV); default half the model's blocks.", HelpName = "bytes" };
        var phaseSplit = new Option<bool>("--phase-split") { Description = "With --coordinator: prefill on prefill-role servers, move the KV caches, decode on decode-role servers." };
        var kvStreaming = new Option<string>("--kv-streaming")
        {
            Description = "With --phase-split: 'block' moves each block's KV cache as soon as it is prefilled (one call per block); 'hop' moves a server's blocks after its whole range (fewer round trips, better over high-latency links).",
            DefaultValueFactory = _ => "block",
            HelpName = "block|hop",
        };
        kvStreaming.AcceptOnlyFromAmong("block", "hop");
        var routing = new Option<string>("--routing")
        {
            Description = "With --coordinator: the planner's routing policy the coordinator routes with (the simulator's): ws-rr (waits for cache + whole-request time), petals (PETALS min-latency), shortest-path.",
            DefaultValueFactory = _ => LiveRouting.DefaultPolicy,
            HelpName = string.Join("|", RoutingPolicies.Names),
        };
        routing.AcceptOnlyFromAmong([.. RoutingPolicies.Names]);
        var trust = new TrustOptions();
        var tlsFlags = new TlsFlags(serves: false, connectsTo: "the coordinator and block servers");
        var command = new Command("generate", "Generate text with a Llama-architecture model from safetensors weights.")
        {
            local, coordinator, model, prompt, maxTokens, seed, temperature, topP, split, clientMemory, phaseSplit, kvStreaming, routing, json,
        };
        trust.AddTo(command);
        tlsFlags.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var coordinatorText = parseResult.GetValue(coordinator);
            if (parseResult.GetValue(local) == (coordinatorText is not null))
            {
                throw new StrataException("Give exactly one of --local (every block in this process) and --coordinator URL (through the swarm).");
            }

            var options = new GenerationOptions
            {
                MaxNewTokens = parseResult.GetValue(maxTokens),
                Sampling = new SamplingOptions
                {
                    Temperature = parseResult.GetValue(temperature),
                    TopP = parseResult.GetValue(topP),
                    Seed = parseResult.GetValue(seed),
                },
            }.Validate();
            if (coordinatorText is not null)
            {
                return await RunCoordinatedAsync(context, ServeCommand.CoordinatorUrls(coordinatorText), options,
                    parseResult.GetValue(model)!, parseResult.GetValue(prompt)!, parseResult.GetValue(split) == "dp", parseResult.GetValue(clientMemory),
                    trust.Apply(parseResult, new CoordinatedChainOptions
                    {
                        PhaseSplit = parseResult.GetValue(phaseSplit),
                        StreamKvByBlock = parseResult.GetValue(kvStreaming) == "block",
                        Routing = parseResult.GetValue(routing),
                        ExpectedOutputTokens = options.MaxNewTokens,
                    }, parseResult.GetValue(model)!),
                    tlsFlags.Read(parseResult), parseResult.GetValue(json), cancellationToken).ConfigureAwait(false);
            }

            var run = await LocalGeneration.RunAsync(parseResult.GetValue(model)!, parseResult.GetValue(prompt)!, options, cancellationToken).ConfigureAwait(false);
            var g = run.Generation;
            if (parseResult.GetValue(json))
            {
                var fields = GenerationJson(g, run.Text, run.TokenizerName);
                fields["parameters"] = run.ParameterCount;
                fields["loadSeconds"] = run.LoadSeconds;
                Json.Write(context.Output, fields);
                return 0;
            }

            context.Output.WriteLine(run.Text);
            context.Output.WriteLine(Summary(g, run.TokenizerName) + ".");
            return 0;
        });
        return command;
    }

    private static async Task<int> RunCoordinatedAsync(
        CliContext context, IReadOnlyList<Uri> coordinator, GenerationOptions options, string model, string prompt, bool splitDp, long? clientMemoryBytes,
        CoordinatedChainOptions chainOptions, Runtime.Security.TlsOptions? tls, bool json, CancellationToken cancellationToken)
    {
        SplitPathOptions? split = null;
        if (splitDp)
        {
            var config = Runtime.Weights.ModelFolder.LoadConfig(model);
            var blockBytes = Runtime.Weights.LlamaWeightsLoader.BlockBytes(config);
            var budget = clientMemoryBytes ?? (blockBytes * config.LayerCount / 2);
            if (budget < 0)
            {
                throw new StrataException($"--client-memory-bytes is {budget}; expected at least 0.");
            }

            split = new SplitPathOptions { ClientMemoryBudgetBytes = budget };
        }

        CoordinatedGenerationResult run;
        try
        {
            using var loggers = ServeCommand.Logging(context.Error, Microsoft.Extensions.Logging.LogLevel.Warning); // fail-overs
            using var client = ServeCommand.Coordinators(coordinator, loggers, tls);
            run = await CoordinatedGeneration.RunAsync(client, model, prompt, options, chainOptions, split, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Grpc.Core.RpcException exception)
        {
            throw new StrataException($"The swarm behind {string.Join(',', coordinator)} failed ({exception.StatusCode}): {exception.Status.Detail}");
        }

        var g = run.Generation;
        if (json)
        {
            var fields = GenerationJson(g, run.Text, run.TokenizerName);
            fields["failovers"] = run.Failovers;
            fields["routing"] = chainOptions.Routing ?? LiveRouting.DefaultPolicy;
            fields["phaseSplit"] = chainOptions.PhaseSplit;
            if (chainOptions.PhaseSplit)
            {
                fields["kvStreaming"] = chainOptions.StreamKvByBlock ? "block" : "hop";
                fields["kvMoves"] = run.KvMoves;
                // Splitwise's decision per block range (split: the KV cache moves; promptDecodes / mixed: one pool runs it all).
                fields["phasePlans"] = run.PhasePlans.ToDictionary(p => JsonNamingPolicy.CamelCase.ConvertName(p.Key.ToString()), p => p.Value);
            }

            fields["clientBlocks"] = run.ClientBlocks.Select(b => new { firstBlock = b.First, blockCount = b.Count });
            Json.Write(context.Output, fields);
            return 0;
        }

        context.Output.WriteLine(run.Text);
        context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Summary(g, run.TokenizerName)}; {run.Failovers} failover(s)."));
        return 0;
    }

    /// <summary>The JSON fields every generation path reports; callers add their own.</summary>
    private static Dictionary<string, object?> GenerationJson(GenerationResult g, string text, string tokenizer) => new()
    {
        ["tokens"] = g.Tokens,
        ["text"] = text,
        ["promptTokens"] = g.PromptTokens.Count,
        ["ttftSeconds"] = g.TtftSeconds,
        ["prefillTokensPerSecond"] = g.TtftSeconds > 0 ? g.PromptTokens.Count / g.TtftSeconds : 0,
        ["tpotSeconds"] = g.TpotSeconds,
        ["decodeTokensPerSecond"] = g.DecodeTokensPerSecond,
        ["totalSeconds"] = g.TotalSeconds,
        ["route"] = g.Route.Select(hop => new { server = hop.Server, firstBlock = hop.Blocks.First, blockCount = hop.Blocks.Count }),
        ["tokenizer"] = tokenizer,
        ["timing"] = TimingBasis(),
    };

    /// <summary>
    /// What the TTFT and TPOT above measure. The CLI ships with tiered compilation off (<c>Strata.Cli.csproj</c>), so every
    /// method is fully optimised at its first call and the timed run, after one untimed warm-up token, is steady state;
    /// with tiering back on (<c>DOTNET_TieredCompilation=1</c>) the numbers include JIT tier-up and the JSON says so.
    /// </summary>
    internal static string TimingBasis()
    {
        var environment = Environment.GetEnvironmentVariable("DOTNET_TieredCompilation");
        var configured = AppContext.GetData("System.Runtime.TieredCompilation") as string;
        var tiered = environment is not null ? environment != "0" : !string.Equals(configured, "false", StringComparison.OrdinalIgnoreCase);
        return tiered
            ? "includes JIT tier-up (tiered compilation on): not steady state"
            : "steady state: tiered compilation off (fully optimised code from the first call), one untimed warm-up token";
    }

    /// <summary>The one-line human summary of a generation.</summary>
    private static string Summary(GenerationResult g, string tokenizer) => string.Create(CultureInfo.InvariantCulture,
        $"{g.Tokens.Count} tokens after a {g.PromptTokens.Count}-token prompt ({tokenizer}); TTFT {Units.Seconds(g.TtftSeconds)}, TPOT {Units.Seconds(g.TpotSeconds)} ({g.DecodeTokensPerSecond:F1} tokens/s); route: {string.Join(" -> ", g.Route.Select(h => $"{h.Server} [{h.Blocks.First}, {h.Blocks.End})"))}");
}
