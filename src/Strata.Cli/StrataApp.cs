using System.CommandLine;
using System.CommandLine.Parsing;
using Strata.Cli.Commands;
using Strata.Core;
using Strata.Planning.Placement;

namespace Strata.Cli;

/// <summary>The <c>strata</c> command line: builds the command tree, runs it, and turns every failure into one sentence.</summary>
public static class StrataApp
{
    /// <summary>Exit code for an unexpected internal error (BSD EX_SOFTWARE).</summary>
    public const int InternalErrorExitCode = 70;

    /// <summary>Runs <c>strata</c> with <paramref name="args"/>, writing to the given writers; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        var context = new CliContext(output, error);
        var root = Build(context);
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            var command = string.Join(' ', parseResult.CommandResult.Command.Name == root.Name ? ["strata"] : ["strata", .. CommandPath(parseResult)]);
            // The most specific error first: an unknown token explains a missing command, not the other way round.
            var first = parseResult.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parseResult.Errors[0];
            var message = string.Join(' ', first.Message.Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries)).TrimEnd('.');
            // Name the option whose value was refused ("Argument 'x' not recognized" alone does not say which).
            var option = first.SymbolResult switch
            {
                OptionResult o => o.Option.Name,
                ArgumentResult { Parent: OptionResult o } => o.Option.Name,
                _ => null,
            };
            if (option is not null && !message.Contains(option, StringComparison.Ordinal))
            {
                message = $"{option}: {message}";
            }

            error.WriteLine($"error: {message}. Run '{command} --help' for usage.");
            return 2;
        }

        try
        {
            // InvokeAsync, not Invoke: only the asynchronous path turns Ctrl+C and SIGTERM into cancellation of the action's token,
            // which long-running commands (strata serve, strata demo) need to shut down cleanly.
            var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = TimeSpan.FromSeconds(10) };
            return parseResult.InvokeAsync(configuration).GetAwaiter().GetResult();
        }
        catch (StrataException exception)
        {
            error.WriteLine($"error: {exception.Message}");
            return exception.ExitCode;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("error: cancelled.");
            return 130;
        }
        catch (Exception exception) when (Environment.GetEnvironmentVariable("STRATA_DEBUG") is null)
        {
            error.WriteLine($"error: unexpected {exception.GetType().Name}: {exception.Message} This is a bug in Strata; please report it with the command line (set STRATA_DEBUG=1 for a stack trace).");
            return InternalErrorExitCode;
        }
    }

    internal static RootCommand Build(CliContext context)
    {
        var root = new RootCommand(
            "Strata plans, simulates and runs large-language-model inference split three ways: across a client " +
            "device and a server (SplitLLM), across geo-distributed block servers (PETALS swarms), and across " +
            "phases, prefill and decode on separate machine pools (Splitwise).");
        MilpPlacement.Register(); // before any option lists the placement names
        root.Options.Add(context.CatalogOption);
        root.Subcommands.Add(DemoCommand.Create(context));
        root.Subcommands.Add(EstimateCommand.Create(context));
        root.Subcommands.Add(CatalogCommand.Create(context));
        root.Subcommands.Add(CalibrateCommand.Create(context));
        root.Subcommands.Add(ScenarioCommand.Create(context));
        root.Subcommands.Add(SimulateCommand.Create(context));
        root.Subcommands.Add(ProvisionCommand.Create(context));
        root.Subcommands.Add(SplitCommand.Create(context));
        root.Subcommands.Add(SwarmCommand.Create(context));
        root.Subcommands.Add(ModelCommand.Create(context));
        root.Subcommands.Add(GenerateCommand.Create(context));
        root.Subcommands.Add(ServeCommand.Create(context));
        root.Subcommands.Add(ProfileCommand.Create(context));
        root.Subcommands.Add(PredictCommand.Create(context));
        root.Subcommands.Add(ValidateCommand.Create(context));
        return root;
    }

    private static IEnumerable<string> CommandPath(ParseResult parseResult)
    {
        var names = new Stack<string>();
        for (var result = parseResult.CommandResult; result.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
        {
            names.Push(result.Command.Name);
        }

        return names;
    }
}
