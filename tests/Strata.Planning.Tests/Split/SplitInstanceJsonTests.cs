using Strata.Core;
using Strata.Planning.Split;

namespace Strata.Planning.Tests.Split;

public sealed class SplitInstanceJsonTests
{
    private const string Origin = "instance.json";

    private const string Valid = """
        {
          // Comments and trailing commas are fine.
          "slaSeconds": 2.5,
          "finalDownloadSeconds": 0.01,
          "clientMemoryBytes": 1000,
          "layers": [
            { "clientSeconds": 0.3, "serverSeconds": 0.02, "uploadSeconds": 0.05, "downloadSeconds": 0.04, "serverLoad": 12, "clientMemoryBytes": 400 },
            { "clientSeconds": 0.3, "serverSeconds": 0.02, "uploadSeconds": 0.05, "downloadSeconds": 0.04, "serverLoad": 12 },
          ]
        }
        """;

    [Fact]
    public void A_valid_file_gives_every_field_and_defaults_layer_memory_to_zero()
    {
        var instance = SplitInstanceJson.Parse(Valid, Origin);

        Assert.Equal(2.5, instance.SlaSeconds);
        Assert.Equal(0.01, instance.FinalDownloadSeconds);
        Assert.Equal(1000, instance.ClientMemoryBudgetBytes);
        Assert.Equal(2, instance.LayerCount);
        Assert.Equal(new SplitLayer(0.3, 0.02, 0.05, 0.04, 12, 400), instance.Layers[0]);
        Assert.Equal(0, instance.Layers[1].ClientMemoryBytes);
    }

    [Fact]
    public void Without_a_budget_the_client_memory_is_unlimited()
    {
        var instance = SplitInstanceJson.Parse("""{"slaSeconds": 1, "finalDownloadSeconds": 0, "layers": [{"clientSeconds": 1, "serverSeconds": 1, "uploadSeconds": 0, "downloadSeconds": 0, "serverLoad": 1}]}""", Origin);

        Assert.Null(instance.ClientMemoryBudgetBytes);
    }

    [Theory]
    [InlineData("\"uploadSeconds\": 0.05", "\"uploadSeconds\": -0.5", "layers[1].uploadSeconds is -0.5; expected a finite number of seconds >= 0")]
    [InlineData("\"uploadSeconds\": 0.05", "\"uploadSeconds\": 1e400", "layers[0].uploadSeconds is 1e400, which is not a finite number")]
    [InlineData("\"uploadSeconds\": 0.05", "\"uploadSeconds\": \"fast\"", "layers[0].uploadSeconds is \"fast\" (a string); expected a finite number of seconds >= 0")]
    [InlineData("\"serverLoad\": 12 }", "\"serverLoad\": true }", "layers[1].serverLoad is true (a boolean)")]
    [InlineData(", \"uploadSeconds\": 0.05", "", "layers[0].uploadSeconds is missing; expected a finite number of seconds >= 0")]
    [InlineData("\"uploadSeconds\": 0.05", "\"uploadSecond\": 0.05", "layers[0].uploadSecond is not a known field; did you mean 'uploadSeconds'?")]
    [InlineData("\"slaSeconds\": 2.5", "\"slaSecs\": 2.5", "slaSecs is not a known field; did you mean 'slaSeconds'?")]
    [InlineData("\"slaSeconds\": 2.5", "\"slaSeconds\": 0", "slaSeconds is 0; expected a finite number of seconds > 0")]
    [InlineData("\"finalDownloadSeconds\": 0.01,", "", "finalDownloadSeconds is missing")]
    [InlineData("\"clientMemoryBytes\": 1000", "\"clientMemoryBytes\": -1", "clientMemoryBytes is -1; expected a finite number of bytes >= 0")]
    public void A_bad_field_is_reported_with_its_path_and_value(string replace, string with, string expected)
    {
        var json = ReplaceFirstOrAll(Valid, replace, with);

        var error = Assert.Throws<StrataException>(() => SplitInstanceJson.Parse(json, Origin));

        Assert.StartsWith($"{Origin}: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        AssertOneSentence(error.Message);
    }

    [Fact]
    public void An_empty_layer_list_is_rejected()
    {
        var error = Assert.Throws<StrataException>(() => SplitInstanceJson.Parse("""{"slaSeconds": 1, "finalDownloadSeconds": 0, "layers": []}""", Origin));

        Assert.Equal("instance.json: layers is empty; expected at least one layer.", error.Message);
    }

    [Fact]
    public void Layers_that_are_not_an_array_of_objects_are_rejected()
    {
        var notArray = Assert.Throws<StrataException>(() => SplitInstanceJson.Parse("""{"slaSeconds": 1, "finalDownloadSeconds": 0, "layers": 3}""", Origin));
        var notObject = Assert.Throws<StrataException>(() => SplitInstanceJson.Parse("""{"slaSeconds": 1, "finalDownloadSeconds": 0, "layers": [7]}""", Origin));

        Assert.Contains("layers is 3; expected an array", notArray.Message, StringComparison.Ordinal);
        Assert.Contains("layers[0] is 7; expected an object", notObject.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_json_is_reported_with_its_line()
    {
        var json = "{\n  \"slaSeconds\": 1,\n  \"layers\": [,]\n}";

        var error = Assert.Throws<StrataException>(() => SplitInstanceJson.Parse(json, Origin));

        Assert.StartsWith("instance.json: not valid JSON at line 3,", error.Message, StringComparison.Ordinal);
        AssertOneSentence(error.Message);
    }

    [Fact]
    public void A_repeated_field_is_rejected()
    {
        var error = Assert.Throws<StrataException>(() => SplitInstanceJson.Parse("""{"slaSeconds": 1, "slaSeconds": 2, "finalDownloadSeconds": 0, "layers": []}""", Origin));

        Assert.Contains("slaSeconds appears more than once", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var path = Path.Combine(Path.GetTempPath(), $"strata-no-such-{Guid.NewGuid():N}.json");

        var error = Assert.Throws<StrataException>(() => SplitInstanceJson.Load(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_on_disk_is_read_and_named_in_errors()
    {
        var path = Path.Combine(Path.GetTempPath(), $"strata-split-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, Valid);
            Assert.Equal(2, SplitInstanceJson.Load(path).LayerCount);

            File.WriteAllText(path, Valid.Replace("\"serverLoad\": 12 }", "\"serverLoad\": -3 }", StringComparison.Ordinal));
            var error = Assert.Throws<StrataException>(() => SplitInstanceJson.Load(path));
            Assert.StartsWith($"{path}: layers[1].serverLoad is -3", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Replaces the first occurrence for "layers[0]" cases, every occurrence for others that name layers[1].</summary>
    private static string ReplaceFirstOrAll(string text, string replace, string with)
    {
        if (with.Contains("-0.5", StringComparison.Ordinal))
        {
            // Only the second layer: replace the last occurrence.
            var last = text.LastIndexOf(replace, StringComparison.Ordinal);
            return string.Concat(text.AsSpan(0, last), with, text.AsSpan(last + replace.Length));
        }

        var first = text.IndexOf(replace, StringComparison.Ordinal);
        Assert.True(first >= 0, $"'{replace}' is not in the sample.");
        return string.Concat(text.AsSpan(0, first), with, text.AsSpan(first + replace.Length));
    }

    private static void AssertOneSentence(string message)
    {
        Assert.True(message.EndsWith('.') || message.EndsWith('?'), $"Not a sentence: {message}");
        Assert.DoesNotContain(". ", message.TrimEnd('.'), StringComparison.Ordinal);
    }
}
