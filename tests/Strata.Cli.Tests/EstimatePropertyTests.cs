using System.Globalization;
using FsCheck;
using FsCheck.Xunit;

namespace Strata.Cli.Tests;

public sealed class EstimatePropertyTests
{
    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    [Property(MaxTest = 40)]
    public void Any_positive_prompt_and_output_give_an_estimate_with_e2e_at_least_ttft(PositiveInt prompt, PositiveInt output)
    {
        // Bounded so that a run stays fast and the request fits the model's 4,096-token context.
        var promptTokens = (prompt.Get - 1) % 3_000 + 1;
        var outputTokens = (output.Get - 1) % 500 + 1;

        var json = CliRun.Of("estimate", "--model", "llama-2-7b", "--gpu", "a100-80gb", "--prompt", Text(promptTokens), "--output", Text(outputTokens), "--json")
            .ShouldSucceed().Json();

        var ttft = json.GetProperty("ttftSeconds").GetDouble();
        var e2e = json.GetProperty("e2eSeconds").GetDouble();
        Assert.True(ttft > 0 && e2e >= ttft, $"prompt {promptTokens}, output {outputTokens}: ttft {ttft} s, e2e {e2e} s");
        Assert.Equal(promptTokens, json.GetProperty("promptTokens").GetInt32());
        Assert.Equal(outputTokens, json.GetProperty("outputTokens").GetInt32());
    }

    [Property(MaxTest = 20)]
    public void Any_non_positive_prompt_fails_with_one_sentence_and_exit_code_2(NonNegativeInt magnitude)
    {
        CliRun.Of("estimate", "--model", "llama-2-7b", "--gpu", "a100-80gb", "--prompt", Text(-magnitude.Get), "--output", "8")
            .ShouldFailCleanly("--prompt");
    }
}
