using System.CommandLine;
using Strata.Core;
using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Gateway;
using Strata.Runtime.Tokenization;
using Strata.Runtime.Weights;

namespace Strata.Cli.Commands;

/// <summary><c>strata serve gateway</c>: the OpenAI-compatible HTTP API in front of a coordinator's swarm.</summary>
internal static class ServeGatewayCommand
{
    public static Command Create(CliContext context)
    {
        var coordinator = new Option<string>("--coordinator") { Description = "The coordinator's URL, for example http://127.0.0.1:50100; several (URL,URL,...) sharing one --registry are tried in turn.", Required = true, HelpName = "url" };
        var model = new Option<string>("--model") { Description = "Model folder: the gateway runs the embedding and LM head and tokenizes; the swarm runs the blocks.", Required = true, HelpName = "dir" };
        var modelId = new Option<string?>("--model-id") { Description = "Name clients use in \"model\" (default: the folder's name).", HelpName = "id" };
        var port = new Option<int>("--port") { Description = "TCP port on --host; 0 picks a free one (printed).", DefaultValueFactory = _ => 0, HelpName = "port" };
        var host = ServeCommand.HostOption();
        var advertise = ServeCommand.AdvertiseOption("printed for HTTP clients to reach this gateway");
        var phaseSplit = new Option<bool>("--phase-split") { Description = "Prefill on prefill-role servers, decode on decode-role servers (KV cache moved between them)." };
        var maxConcurrency = new Option<int>("--max-concurrency") { Description = "Requests generating at once; more wait in the queue.", DefaultValueFactory = _ => new GatewayOptions().MaxConcurrentRequests, HelpName = "n" };
        var maxQueue = new Option<int>("--max-queue") { Description = "Requests waiting for a slot, first come first served; past it a request gets 429 with a Retry-After from the measured service time.", DefaultValueFactory = _ => new GatewayOptions().MaxQueuedRequests, HelpName = "n" };
        var apiKey = new Option<string?>("--api-key") { Description = "Require Authorization: Bearer KEY on /v1/* (401 otherwise); /health and /metrics stay open. Default: none (or $STRATA_API_KEY).", HelpName = "key" };
        var logLevel = ServeCommand.LogLevelOption("one access-log line per request");
        var maxTokens = new Option<int>("--max-completion-tokens") { Description = "Largest max_tokens a request may ask for.", DefaultValueFactory = _ => new GatewayOptions().MaxCompletionTokens, HelpName = "n" };
        var deadline = new Option<double>("--deadline-seconds") { Description = "Deadline of each request; past it the answer is 504 (or an error event in a stream).", DefaultValueFactory = _ => new GatewayOptions().RequestDeadline.TotalSeconds, HelpName = "s" };
        var trust = new TrustOptions();
        var tlsFlags = new TlsFlags(serves: true, connectsTo: "the coordinator and block servers");
        var command = new Command("gateway", "Run the OpenAI-compatible gateway (/v1/models, /v1/completions, /v1/chat/completions, streaming) that routes every request through the swarm.")
        {
            coordinator, model, modelId, port, host, advertise, phaseSplit, maxConcurrency, maxQueue, maxTokens, deadline, apiKey, logLevel,
        };
        trust.AddTo(command);
        tlsFlags.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var coordinatorUrls = ServeCommand.CoordinatorUrls(parseResult.GetValue(coordinator)!);
            var p = ServeCommand.Port(parseResult.GetValue(port));
            var listen = ServeCommand.ListenAddress(parseResult.GetValue(host)!);
            var advertiseText = parseResult.GetValue(advertise);
            var advertiseUrl = ServeCommand.AdvertiseUrl(advertiseText);

            var seconds = parseResult.GetValue(deadline);
            if (!(seconds > 0) || double.IsInfinity(seconds))
            {
                throw new StrataException($"--deadline-seconds is {seconds}; expected a positive number of seconds.");
            }

            var tls = tlsFlags.Read(parseResult);
            using var loggerFactory = ServeCommand.Logging(context.Error, parseResult.GetValue(logLevel));
            var key = parseResult.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("STRATA_API_KEY");
            var options = new GatewayOptions
            {
                MaxConcurrentRequests = parseResult.GetValue(maxConcurrency),
                MaxQueuedRequests = parseResult.GetValue(maxQueue),
                ApiKey = string.IsNullOrEmpty(key) ? null : key,
                LoggerFactory = loggerFactory,
                MaxCompletionTokens = parseResult.GetValue(maxTokens),
                RequestDeadline = TimeSpan.FromSeconds(seconds),
                Tls = tls,
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException exception)
            {
                throw new StrataException($"The gateway limits are out of range: {exception.Message}");
            }

            var directory = parseResult.GetValue(model)!;
            var config = ModelFolder.LoadConfig(directory);
            var head = new LlamaModel(config, LlamaWeightsLoader.Load(directory, config, 0, 0));
            var tokenizer = TokenizerLoader.Load(directory, config);
            var id = parseResult.GetValue(modelId) ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
            using var client = ServeCommand.Coordinators(coordinatorUrls, loggerFactory, tls);
            var chainOptions = trust.Apply(parseResult, new CoordinatedChainOptions { PhaseSplit = parseResult.GetValue(phaseSplit), MaxBusyWait = options.RequestDeadline }, directory, head);
            var backend = new ChainCompletionBackend(head, tokenizer, () => new CoordinatedBlockChain(client, head, chainOptions), id);
            await using var gateway = await GatewayHost.StartAsync([backend], p, listen, options, cancellationToken: cancellationToken).ConfigureAwait(false);
            context.Output.WriteLine(ServeCommand.ListeningLine(ServeCommand.Advertised(advertiseUrl, advertiseText, listen, gateway.Address, tls)));
            context.Output.WriteLine($"serving model '{id}' through the coordinator at {string.Join(',', coordinatorUrls.Select(u => u.Authority))}");
            context.Output.Flush();
            await ServeCommand.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
