using System.Globalization;
using System.Text.Json;

namespace Strata.Cli.Tests;

/// <summary>What one in-process run of <c>strata</c> returned and printed.</summary>
/// <param name="Arguments">The command line, for failure messages.</param>
/// <param name="ExitCode">The exit code.</param>
/// <param name="Output">Everything written to standard output.</param>
/// <param name="Error">Everything written to standard error.</param>
internal sealed record CliRun(string[] Arguments, int ExitCode, string Output, string Error)
{
    /// <summary>Runs <see cref="StrataApp.Run"/> on <paramref name="args"/> with string writers.</summary>
    public static CliRun Of(params string[] args)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        var exitCode = StrataApp.Run(args, output, error);
        return new CliRun(args, exitCode, output.ToString(), error.ToString());
    }

    /// <summary>The non-blank lines of standard error.</summary>
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Standard output parsed as one JSON document.</summary>
    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(Output);
        return document.RootElement.Clone();
    }

    /// <summary>The command line, exit code and both streams, for assertion messages.</summary>
    public string Describe() =>
        $"strata {string.Join(' ', Arguments)}\nexit code {ExitCode}\n--- stdout ---\n{Output}\n--- stderr ---\n{Error}";

    /// <summary>Asserts the run succeeded with nothing on standard error.</summary>
    public CliRun ShouldSucceed()
    {
        Assert.True(ExitCode == 0 && Error.Length == 0, $"expected exit 0 and empty stderr:\n{Describe()}");
        return this;
    }

    /// <summary>
    /// Asserts the run failed the way bad input must: exit code 2, nothing on standard output, exactly one line on
    /// standard error that starts with <c>error:</c>, no stack trace, and each of <paramref name="mentions"/> in it.
    /// </summary>
    public string ShouldFailCleanly(params string[] mentions)
    {
        Assert.True(ExitCode == 2, $"expected exit code 2:\n{Describe()}");
        Assert.True(Output.Length == 0, $"expected nothing on stdout:\n{Describe()}");
        Assert.True(ErrorLines.Length == 1, $"expected exactly one line on stderr, got {ErrorLines.Length}:\n{Describe()}");
        var line = ErrorLines[0];
        Assert.True(line.StartsWith("error:", StringComparison.Ordinal), $"expected the line to start with 'error:':\n{Describe()}");
        Assert.False(Error.Contains("   at ", StringComparison.Ordinal), $"expected no stack trace:\n{Describe()}");
        foreach (var mention in mentions)
        {
            Assert.True(line.Contains(mention, StringComparison.OrdinalIgnoreCase), $"expected the error to mention '{mention}':\n{Describe()}");
        }

        return line;
    }
}
