namespace Strata.Cli.Tests;

/// <summary>Every mistake a user can make gives one <c>error:</c> line naming it, no stack trace, and exit code 2.</summary>
public sealed class BadInputTests
{
    private static string[] Estimate(params string[] overrides)
    {
        var options = new Dictionary<string, string>
        {
            ["--model"] = "llama-2-7b",
            ["--gpu"] = "a100-80gb",
            ["--prompt"] = "128",
            ["--output"] = "16",
        };
        for (var i = 0; i + 1 < overrides.Length; i += 2)
        {
            options[overrides[i]] = overrides[i + 1];
        }

        return ["estimate", .. options.Where(pair => pair.Value.Length > 0).SelectMany(pair => new[] { pair.Key, pair.Value })];
    }

    [Fact]
    public void Unknown_model_gives_one_sentence_suggesting_the_closest_id_and_exit_code_2()
    {
        var line = CliRun.Of(Estimate("--model", "llama-2-7")).ShouldFailCleanly("llama-2-7");

        Assert.Contains("Did you mean 'llama-2-7b'?", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_gpu_gives_one_sentence_naming_it_and_exit_code_2()
    {
        CliRun.Of(Estimate("--gpu", "b300-288gb")).ShouldFailCleanly("b300-288gb", "strata catalog");
    }

    [Fact]
    public void Negative_prompt_gives_one_sentence_naming_the_flag_and_exit_code_2()
    {
        CliRun.Of(Estimate("--prompt", "-5")).ShouldFailCleanly("--prompt");
    }

    [Fact]
    public void Prompt_plus_output_beyond_int_range_gives_one_sentence_and_exit_code_2()
    {
        CliRun.Of(Estimate("--prompt", "2147483647", "--output", "2")).ShouldFailCleanly("--prompt");
    }

    [Fact]
    public void Zero_output_tokens_gives_one_sentence_naming_the_flag_and_exit_code_2()
    {
        CliRun.Of(Estimate("--output", "0")).ShouldFailCleanly("--output");
    }

    [Fact]
    public void Zero_batch_gives_one_sentence_naming_the_flag_and_exit_code_2()
    {
        CliRun.Of(Estimate("--batch", "0")).ShouldFailCleanly("--batch");
    }

    [Fact]
    public void Non_numeric_prompt_gives_one_sentence_naming_the_value_and_exit_code_2()
    {
        CliRun.Of(Estimate("--prompt", "many")).ShouldFailCleanly("--prompt", "many");
    }

    [Fact]
    public void No_command_gives_one_sentence_and_exit_code_2()
    {
        CliRun.Of().ShouldFailCleanly("strata --help");
    }

    [Fact]
    public void Unknown_flag_gives_one_sentence_naming_it_and_exit_code_2()
    {
        CliRun.Of([.. Estimate(), "--frobnicate"]).ShouldFailCleanly("--frobnicate");
    }

    [Fact]
    public void Missing_required_flag_gives_one_sentence_naming_it_and_exit_code_2()
    {
        CliRun.Of(Estimate("--gpu", "")).ShouldFailCleanly("--gpu");
    }

    [Fact]
    public void Unknown_command_gives_one_sentence_naming_it_and_exit_code_2()
    {
        CliRun.Of("simulate-everything").ShouldFailCleanly("simulate-everything");
    }

    [Fact]
    public void Profile_outside_the_accepted_kinds_gives_one_sentence_and_exit_code_2()
    {
        CliRun.Of(Estimate("--profile", "psychic")).ShouldFailCleanly("psychic");
    }

    [Fact]
    public void Unknown_precision_gives_one_sentence_listing_the_accepted_ones_and_exit_code_2()
    {
        CliRun.Of(Estimate("--precision", "fp3")).ShouldFailCleanly("fp3", "int4");
    }

    [Fact]
    public void Memory_utilization_above_one_gives_one_sentence_and_exit_code_2()
    {
        CliRun.Of(Estimate("--memory-utilization", "1.5")).ShouldFailCleanly("--memory-utilization");
    }

    [Fact]
    public void Tensor_parallelism_beyond_the_machine_gives_one_sentence_and_exit_code_2()
    {
        CliRun.Of(Estimate("--model", "llama-2-70b", "--gpu", "dgx-a100", "--tp", "16")).ShouldFailCleanly("--tp", "16", "dgx-a100");
    }

    [Fact]
    public void Tensor_parallelism_that_does_not_divide_the_heads_gives_one_sentence_and_exit_code_2()
    {
        // Llama-2-7B has 32 attention heads.
        CliRun.Of(Estimate("--gpu", "3xa100-80gb")).ShouldFailCleanly("3", "heads");
    }

    [Fact]
    public void Missing_catalog_file_gives_one_sentence_naming_it_and_exit_code_2()
    {
        var path = TempFile.MissingPath(".json");

        CliRun.Of(["--catalog", path, .. Estimate()]).ShouldFailCleanly(path);
    }

    [Fact]
    public void Malformed_catalog_json_gives_one_sentence_naming_the_file_and_exit_code_2()
    {
        using var file = new TempFile("{ \"devices\": [ { \"id\": \"x\", ", ".json");

        CliRun.Of(["--catalog", file.Path, .. Estimate()]).ShouldFailCleanly(file.Path, "JSON");
    }

    [Fact]
    public void Catalog_device_with_a_negative_field_gives_one_sentence_naming_entry_and_field_and_exit_code_2()
    {
        using var file = new TempFile(
            """{ "devices": [ { "id": "broken-gpu", "kind": "gpu", "memoryBytes": -1, "memoryBandwidthBytesPerSecond": 1e12, "peakFlopsPerSecond": { "fp16": 1e14 } } ] }""",
            ".json");

        CliRun.Of(["--catalog", file.Path, "catalog", "devices"]).ShouldFailCleanly("broken-gpu", "memoryBytes");
    }

    [Fact]
    public void Missing_profile_csv_gives_one_sentence_naming_it_and_exit_code_2()
    {
        var path = TempFile.MissingPath(".csv");

        CliRun.Of(Estimate("--profile-csv", path)).ShouldFailCleanly(path);
    }

    [Fact]
    public void Profile_csv_with_a_bad_row_gives_one_sentence_naming_line_and_column_and_exit_code_2()
    {
        using var file = new TempFile(
            "model,hardware,tensor_parallel,prompt_size,batch_size,token_size,prompt_time,token_time\n" +
            "llama2-70b,a100-80gb,8,512,1,128,90.5,30.1\n" +
            "llama2-70b,a100-80gb,8,lots,1,128,90.5,30.1\n",
            ".csv");

        CliRun.Of(Estimate("--profile-csv", file.Path)).ShouldFailCleanly(file.Path, "line 3", "prompt_size", "lots");
    }

    [Fact]
    public void Profile_csv_without_a_required_column_gives_one_sentence_naming_it_and_exit_code_2()
    {
        using var file = new TempFile("model,hardware,tensor_parallel\nllama2-70b,a100-80gb,8\n", ".csv");

        CliRun.Of("calibrate", "--profile-csv", file.Path).ShouldFailCleanly(file.Path, "prompt_size");
    }

    [Fact]
    public void Calibrate_hold_out_fraction_outside_zero_to_one_gives_one_sentence_and_exit_code_2()
    {
        CliRun.Of("calibrate", "--holdout", "1.5").ShouldFailCleanly("1.5");
    }

    [Fact]
    public void Calibrate_hold_out_that_is_neither_a_fraction_nor_a_group_names_the_choices()
    {
        CliRun.Of("calibrate", "--holdout", "models").ShouldFailCleanly("--holdout", "model, tp, gpu");
    }

    [Fact]
    public void Calibrate_with_a_missing_operator_profile_file_names_the_file()
    {
        CliRun.Of("calibrate", "--holdout", "model", "--operator-csv", "/nonexistent/ops.csv").ShouldFailCleanly("/nonexistent/ops.csv");
    }
}
