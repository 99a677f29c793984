using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Strata.Cli.Processes;
using Strata.Core;
using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Tokenization;
using Strata.Runtime.Weights;

namespace Strata.Cli.Demo;

/// <summary>
/// The runtime half of <c>strata demo</c>: a coordinator, four block servers and a gateway as child processes on free
/// loopback ports, the same prompts through every inference path, each output checked against the local reference.
/// </summary>
/// <remarks>
/// Servers: two hold half the blocks each (role both), one holds every block for prefill and one every block for decode
/// (the phase-split pair). Paths: swarm (routed by the coordinator), split (the client runs the blocks the SplitLLM DP
/// gives it), phase split (prefill servers, KV cache moved, decode servers), the OpenAI gateway over HTTP, and a
/// failover (a half-model server is killed mid-generation; the client re-routes and replays). Decoding is greedy, so
/// every path must give exactly the local tokens. Every child is stopped on the way out, also on Ctrl+C.
/// </remarks>
internal static class RuntimeDemo
{
    private static readonly string[] Prompts =
    [
        "Split inference runs one model on many machines.",
        "Prefill and decode can live on different GPUs.",
        "A swarm of block servers serves a large model.",
        "The client may run some layers itself.",
        "Every path must give the same tokens.",
        "Kill a server and the generation goes on.",
        "Latency, throughput and cost are traded off.",
        "Strata plans, simulates and runs it.",
    ];

    /// <summary>The cluster the demo started, and what each path measured.</summary>
    public sealed record Outcome(string ModelDirectory, IReadOnlyList<(string Name, string Url, string Role)> Processes, IReadOnlyList<DemoPathResult> Paths)
    {
        /// <summary>Whether every request of every path matched the local reference.</summary>
        public bool AllMatched => Paths.All(p => p.Matched == p.Requests);
    }

    /// <summary>Runs the demo; <paramref name="status"/> hears what it is doing.</summary>
    public static async Task<Outcome> RunAsync(RuntimeDemoOptions options, Action<string> status, CancellationToken cancellationToken)
    {
        options.Validate();
        var directory = Path.Combine(Path.GetTempPath(), $"strata-demo-{options.Preset.Name}-{options.Seed}-{Environment.ProcessId}");
        var config = options.Preset.ToConfig();
        status($"Writing the {options.Preset.Name} model ({config.LayerCount} blocks) to {directory}");
        RandomModelWriter.Write(directory, config, options.Seed, overwrite: true);
        var children = new List<StrataChildProcess>();
        try
        {
            var layers = config.LayerCount;
            var half = layers / 2;
            status("Starting the coordinator");
            var coordinator = await Start(children, "coordinator", ["serve", "coordinator", "--port", "0", "--heartbeat-ms", "500"], options, cancellationToken).ConfigureAwait(false);
            status("Starting four block servers");
            string[] Block(string first, string count, string role) =>
                ["serve", "block", "--coordinator", coordinator.Url, "--model", directory, "--blocks", $"{first}:{count}", "--role", role, "--port", "0"];
            var servers = await Task.WhenAll(
                Start(children, "block-a", Block("0", Invariant(half), "both"), options, cancellationToken),
                Start(children, "block-b", Block(Invariant(half), Invariant(layers - half), "both"), options, cancellationToken),
                Start(children, "prefill", Block("0", Invariant(layers), "prefill"), options, cancellationToken),
                Start(children, "decode", Block("0", Invariant(layers), "decode"), options, cancellationToken)).ConfigureAwait(false);
            status("Starting the gateway");
            var gateway = await Start(children, "gateway", ["serve", "gateway", "--coordinator", coordinator.Url, "--model", directory, "--model-id", "demo", "--port", "0"], options, cancellationToken)
                .ConfigureAwait(false);

            var prompts = Enumerable.Range(0, options.Requests).Select(i => Prompts[i % Prompts.Length]).ToArray();
            var generation = new GenerationOptions { MaxNewTokens = options.MaxTokens };
            status("Running the local reference");
            var reference = new List<LocalGenerationResult>();
            foreach (var prompt in prompts)
            {
                reference.Add(await LocalGeneration.RunAsync(directory, prompt, generation, cancellationToken).ConfigureAwait(false));
            }

            var coordinatorUrl = new Uri(coordinator.Url);
            var paths = new List<DemoPathResult>();
            status("Swarm path");
            paths.Add(await Routed("swarm", prompts, reference, directory, coordinatorUrl, generation, new CoordinatedChainOptions(), null, cancellationToken).ConfigureAwait(false));
            status("Split path (client-side blocks from the SplitLLM DP, client memory for half the blocks)");
            var split = new SplitPathOptions { ClientMemoryBudgetBytes = HalfTheBlocksBytes(config, options.MaxTokens) };
            paths.Add(await Routed("split", prompts, reference, directory, coordinatorUrl, generation, new CoordinatedChainOptions(), split, cancellationToken).ConfigureAwait(false));
            status("Phase-split path (prefill servers, KV cache moved, decode servers)");
            paths.Add(await Routed("phase-split", prompts, reference, directory, coordinatorUrl, generation, new CoordinatedChainOptions { PhaseSplit = true }, null, cancellationToken)
                .ConfigureAwait(false));
            status("OpenAI gateway (/v1/completions)");
            paths.Add(await ThroughGateway(prompts, reference, gateway.Url, options.MaxTokens, cancellationToken).ConfigureAwait(false));
            if (options.Failover)
            {
                status("Failover: killing a block server of the route in the middle of a generation");
                paths.Add(await Failover(prompts[0], reference[0], directory, coordinatorUrl, generation, servers, cancellationToken).ConfigureAwait(false));
            }

            var roles = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["coordinator"] = "registry, placement, routes",
                ["block-a"] = $"blocks [0, {half}), both",
                ["block-b"] = $"blocks [{half}, {layers}), both",
                ["prefill"] = $"blocks [0, {layers}), prefill",
                ["decode"] = $"blocks [0, {layers}), decode",
                ["gateway"] = "OpenAI-compatible HTTP",
            };
            return new Outcome(directory, [.. children.Select(c => (c.Name, c.Url, roles[c.Name]))], paths);
        }
        finally
        {
            status("Stopping the cluster");
            // The gateway and block servers first (they deregister), the coordinator last.
            for (var i = children.Count - 1; i >= 0; i--)
            {
                await children[i].DisposeAsync().ConfigureAwait(false);
            }

            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // A temp folder left behind is harmless.
            }
        }
    }

    private static async Task<StrataChildProcess> Start(List<StrataChildProcess> children, string name, string[] arguments, RuntimeDemoOptions options, CancellationToken cancellationToken)
    {
        var child = await StrataChildProcess.StartAsync(name, arguments, options.StartTimeout, cancellationToken).ConfigureAwait(false);
        lock (children)
        {
            children.Add(child);
        }

        return child;
    }

    private static async Task<DemoPathResult> Routed(
        string path, string[] prompts, List<LocalGenerationResult> reference, string directory, Uri coordinatorUrl, GenerationOptions generation,
        CoordinatedChainOptions chainOptions, SplitPathOptions? split, CancellationToken cancellationToken)
    {
        var wall = Stopwatch.StartNew();
        var results = await Task.WhenAll(prompts.Select(prompt =>
            CoordinatedGeneration.RunAsync(coordinatorUrl, directory, prompt, generation, chainOptions, split, cancellationToken))).ConfigureAwait(false);
        var seconds = wall.Elapsed.TotalSeconds;
        var matched = results.Where((r, i) => r.Generation.Tokens.SequenceEqual(reference[i].Generation.Tokens)).Count();
        var last = results[^1];
        var route = string.Join(" -> ", last.Generation.Route.Select(Hop));
        return new DemoPathResult(
            path, results.Length, matched, results.Average(r => r.Generation.TtftSeconds), results.Average(r => r.Generation.TpotSeconds),
            results.Sum(r => r.Generation.Tokens.Count) / seconds, route, results.Sum(r => r.Failovers));
    }

    private static async Task<DemoPathResult> ThroughGateway(string[] prompts, List<LocalGenerationResult> reference, string gatewayUrl, int maxTokens, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri(gatewayUrl), Timeout = TimeSpan.FromMinutes(5) };
        var wall = Stopwatch.StartNew();
        var texts = await Task.WhenAll(prompts.Select(async prompt =>
        {
            using var response = await http.PostAsJsonAsync("/v1/completions", new { model = "demo", prompt, max_tokens = maxTokens, temperature = 0 }, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new StrataException($"The gateway answered {(int)response.StatusCode}: {body}");
            }

            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            return (Text: root.GetProperty("choices")[0].GetProperty("text").GetString() ?? "", Tokens: root.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        })).ConfigureAwait(false);
        var seconds = wall.Elapsed.TotalSeconds;
        var matched = texts.Where((t, i) => t.Text == reference[i].Text).Count();
        return new DemoPathResult("gateway", texts.Length, matched, double.NaN, double.NaN, texts.Sum(t => t.Tokens) / seconds, $"HTTP {gatewayUrl} -> swarm", 0);
    }

    private static async Task<DemoPathResult> Failover(
        string prompt, LocalGenerationResult reference, string directory, Uri coordinatorUrl, GenerationOptions generation, IReadOnlyList<StrataChildProcess> servers, CancellationToken cancellationToken)
    {
        var config = ModelFolder.LoadConfig(directory);
        var tokenizer = TokenizerLoader.Load(directory, config);
        var model = new LlamaModel(config, LlamaWeightsLoader.Load(directory, config, 0, 0));
        using var coordinator = new CoordinatorClient(coordinatorUrl);
        using var chain = new CoordinatedBlockChain(coordinator, model);
        var generator = new TextGenerator(model, chain);
        var killAt = Math.Max(1, generation.MaxNewTokens / 3);
        var seen = 0;
        StrataChildProcess? victim = null;
        var wall = Stopwatch.StartNew();
        var result = await generator.GenerateAsync(tokenizer.Encode(prompt), generation, (_, _) =>
        {
            if (++seen == killAt)
            {
                // Whichever server the live route runs through first: the client must re-route around it.
                var used = chain.Route.Select(hop => Authority(hop.Server)).ToHashSet(StringComparer.Ordinal);
                victim = servers.FirstOrDefault(server => used.Contains(Authority(server.Url)));
                victim?.Kill();
            }

            return ValueTask.CompletedTask;
        }, cancellationToken).ConfigureAwait(false);
        var seconds = wall.Elapsed.TotalSeconds;
        var matched = result.Tokens.SequenceEqual(reference.Generation.Tokens) ? 1 : 0;
        return new DemoPathResult(
            "failover", 1, matched, result.TtftSeconds, result.TpotSeconds, result.Tokens.Count / seconds,
            $"{string.Join(" -> ", result.Route.Select(Hop))} ({victim?.Name ?? "no server"} killed after token {killAt})", chain.Failovers);
    }

    /// <summary>Client memory for the weights and KV cache of half the blocks, so the split path really splits.</summary>
    private static double HalfTheBlocksBytes(LlamaConfig config, int maxTokens)
    {
        var blockBytes = (double)LlamaWeightsLoader.BlockBytes(config);
        var kvBytes = 2.0 * (128 + maxTokens) * config.KeyValueDimension * sizeof(float);
        return config.LayerCount / 2 * (blockBytes + kvBytes);
    }

    private static string Hop(RouteHop hop) => $"{Authority(hop.Server)} [{hop.Blocks.First}, {hop.Blocks.End})";

    private static string Authority(string server) => Uri.TryCreate(server, UriKind.Absolute, out var url) ? url.Authority : server;

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
