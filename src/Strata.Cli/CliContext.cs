using System.CommandLine;
using Spectre.Console;
using Strata.Core.Catalogs;

namespace Strata.Cli;

/// <summary>What every command needs: where to write, and the catalog (built-in plus <c>--catalog</c> files).</summary>
internal sealed class CliContext
{
    public CliContext(TextWriter output, TextWriter error)
    {
        Output = output;
        Error = error;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!ReferenceEquals(output, System.Console.Out) || System.Console.IsOutputRedirected)
        {
            Console.Profile.Width = 160;
        }
    }

    /// <summary>Plain output, for JSON (never wrapped or coloured).</summary>
    public TextWriter Output { get; }

    /// <summary>Error output.</summary>
    public TextWriter Error { get; }

    /// <summary>Rich output, for tables and progress.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>The repeatable global <c>--catalog FILE</c> option.</summary>
    public Option<string[]> CatalogOption { get; } = new("--catalog")
    {
        Description = "A catalog JSON file of models, devices or machines that adds to or overrides the built-in one (repeatable).",
        Recursive = true,
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
        HelpName = "file",
    };

    /// <summary>The built-in catalog with every <c>--catalog</c> file applied in order.</summary>
    public Catalog Catalog(ParseResult parseResult)
    {
        var catalog = Core.Catalogs.Catalog.BuiltIn;
        foreach (var path in parseResult.GetValue(CatalogOption) ?? [])
        {
            catalog = catalog.WithFile(path);
        }

        return catalog;
    }
}
