using Strata.Core;
using Strata.Performance.Profiles;

namespace Strata.Performance.Tests.Profiles;

public sealed class ProfileTableTests
{
    private const string Header = "model,hardware,prompt_size,batch_size,token_size,peak_power,average_power,prompt_time,token_time,e2e_time,tensor_parallel";

    [Fact]
    public void Built_in_table_holds_the_1260_splitwise_measurements_in_12_deployments()
    {
        Assert.Equal(1260, ProfileTable.BuiltIn.Rows.Count);
        Assert.Equal(12, ProfileTable.BuiltIn.Keys.Count());
    }

    [Fact]
    public void Times_are_read_in_milliseconds_and_kept_in_seconds()
    {
        var table = ProfileTable.Parse($"{Header}\nm,g,512,1,128,1,1,196.25,54.88,7168.9,2\n", "test.csv");
        Assert.Equal(0.19625, table.Rows[0].PromptSeconds, 12);
        Assert.Equal(0.05488, table.Rows[0].TokenSeconds, 12);
    }

    [Theory]
    [InlineData("m,g,512,1,128,1,1,abc,54.88,7168.9,2", "line 2 column 'prompt_time' is 'abc'")]
    [InlineData("m,g,-5,1,128,1,1,10,54.88,7168.9,2", "line 2 column 'prompt_size' is '-5'")]
    [InlineData("m,g,512,1", "line 2 has 4 fields")]
    public void A_malformed_row_names_file_line_column_and_value(string row, string expected)
    {
        var error = Assert.Throws<StrataException>(() => ProfileTable.Parse($"{Header}\n{row}\n", "bad.csv"));
        Assert.StartsWith("bad.csv:", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_missing_column_is_named()
    {
        var error = Assert.Throws<StrataException>(() => ProfileTable.Parse("model,hardware\nm,g\n", "bad.csv"));
        Assert.Contains("no 'tensor_parallel' column", error.Message);
    }
}
