using System.CommandLine;

namespace Strata.Cli.Tests;

public sealed class HelpTests
{
    public static TheoryData<string> CommandPaths => ["", "demo", "estimate", "catalog", "catalog models", "catalog devices", "catalog machines", "catalog show", "calibrate"];

    private static Command Find(string path)
    {
        using var output = new StringWriter();
        Command command = StrataApp.Build(new CliContext(output, output));
        foreach (var name in path.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            command = command.Subcommands.Single(subcommand => subcommand.Name == name);
        }

        return command;
    }

    [Theory]
    [MemberData(nameof(CommandPaths))]
    public void Help_exits_0_and_lists_every_option_and_subcommand_of_the_command(string path)
    {
        var command = Find(path);
        var run = CliRun.Of([.. path.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]).ShouldSucceed();

        Assert.Contains("Usage:", run.Output, StringComparison.Ordinal);
        Assert.Contains("--help", run.Output, StringComparison.Ordinal);
        foreach (var option in command.Options.Where(option => !option.Hidden))
        {
            Assert.True(run.Output.Contains(option.Name, StringComparison.Ordinal), $"help of '{path}' does not list {option.Name}:\n{run.Output}");
        }

        foreach (var subcommand in command.Subcommands)
        {
            Assert.True(run.Output.Contains(subcommand.Name, StringComparison.Ordinal), $"help of '{path}' does not list {subcommand.Name}:\n{run.Output}");
        }
    }

    [Theory]
    [InlineData("", new[] { "--catalog", "demo", "estimate", "catalog", "calibrate" })]
    [InlineData("estimate", new[] { "--model", "--gpu", "--tp", "--precision", "--prompt", "--output", "--batch", "--profile", "--profile-csv", "--memory-utilization", "--json", "--catalog" })]
    [InlineData("catalog", new[] { "models", "devices", "machines", "show" })]
    [InlineData("catalog show", new[] { "name", "--json" })]
    [InlineData("calibrate", new[] { "--profile-csv", "--holdout", "--seed", "--json" })]
    public void Help_names_the_documented_options(string path, string[] expected)
    {
        var run = CliRun.Of([.. path.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]).ShouldSucceed();

        foreach (var name in expected)
        {
            Assert.True(run.Output.Contains(name, StringComparison.Ordinal), $"help of '{path}' does not list {name}:\n{run.Output}");
        }
    }

    [Fact]
    public void Help_of_estimate_states_what_each_flag_means()
    {
        var run = CliRun.Of("estimate", "--help").ShouldSucceed();

        Assert.Contains("Prompt tokens per request", run.Output, StringComparison.Ordinal);
        Assert.Contains("Tensor-parallel degree", run.Output, StringComparison.Ordinal);
    }
}
