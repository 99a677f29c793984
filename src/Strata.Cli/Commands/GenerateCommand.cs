using System.CommandLine;
using System.Globalization;
using Strata.Cli.Output;
using Strata.Core;
using Strata.Runtime.Engine;
using Strata.Runtime.Sampling;

namespace Strata.Cli.Commands;

/// <summary><c>strata generate</c>: run one generation of a real model; <c>--local</c> runs every block in this process (the reference).</summary>
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
        var command = new Command("generate", "Generate text with a Llama-architecture model from safetensors weights.")
        {
            local, model, prompt, maxTokens, seed, temperature, topP, json,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (!parseResult.GetValue(local))
            {
                throw new StrataException("Only --local generation is available yet; pass --local (generation through a coordinator and block servers is not built yet).");
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
            var run = await LocalGeneration.RunAsync(parseResult.GetValue(model)!, parseResult.GetValue(prompt)!, options, cancellationToken).ConfigureAwait(false);
            var g = run.Generation;
            if (parseResult.GetValue(json))
            {
                Json.Write(context.Output, new
                {
                    tokens = g.Tokens,
                    text = run.Text,
                    promptTokens = g.PromptTokens.Count,
                    ttftSeconds = g.TtftSeconds,
                    prefillTokensPerSecond = g.TtftSeconds > 0 ? g.PromptTokens.Count / g.TtftSeconds : 0,
                    tpotSeconds = g.TpotSeconds,
                    decodeTokensPerSecond = g.DecodeTokensPerSecond,
                    totalSeconds = g.TotalSeconds,
                    route = g.Route.Select(hop => new { server = hop.Server, firstBlock = hop.FirstBlock, blockCount = hop.BlockCount }),
                    tokenizer = run.TokenizerName,
                    parameters = run.ParameterCount,
                });
                return 0;
            }

            context.Output.WriteLine(run.Text);
            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{g.Tokens.Count} tokens after a {g.PromptTokens.Count}-token prompt ({run.TokenizerName}); TTFT {Units.Seconds(g.TtftSeconds)}, TPOT {Units.Seconds(g.TpotSeconds)} ({g.DecodeTokensPerSecond:F1} tokens/s); route: {string.Join(" -> ", g.Route.Select(h => $"{h.Server} [{h.FirstBlock}, {h.FirstBlock + h.BlockCount})"))}."));
            return 0;
        });
        return command;
    }
}
