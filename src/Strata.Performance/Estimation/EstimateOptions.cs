using Strata.Core;
using Strata.Core.Models;
using Strata.Performance.Memory;

namespace Strata.Performance.Estimation;

/// <summary>Everything <c>strata estimate</c> needs; defaults are documented per field.</summary>
public sealed record EstimateOptions
{
    /// <summary>Longest request (prompt plus output) an estimate accepts: far beyond any model's context, well inside integer range.</summary>
    public const int MaxTokensPerRequest = 10_000_000;

    /// <summary>Catalog model id, or a path to a Hugging Face <c>config.json</c> (or its folder).</summary>
    public required string Model { get; init; }

    /// <summary>Catalog device id (<c>a100-80gb</c>), machine id (<c>dgx-a100</c>) or <c>NxDEVICE</c>.</summary>
    public required string Gpu { get; init; }

    /// <summary>Tensor-parallel degree; default: the machine's device count (1 for a device id).</summary>
    public int? TensorParallel { get; init; }

    /// <summary>Weight precision; default: the model's native precision.</summary>
    public Precision? Precision { get; init; }

    /// <summary>Prompt tokens per request, >= 1.</summary>
    public required int PromptTokens { get; init; }

    /// <summary>Output tokens per request, >= 1.</summary>
    public required int OutputTokens { get; init; }

    /// <summary>Requests run together, >= 1; default 1.</summary>
    public int Batch { get; init; } = 1;

    /// <summary>Performance model; default the calibrated roofline.</summary>
    public PerformanceProfile Profile { get; init; } = PerformanceProfile.Roofline;

    /// <summary>A measured-profile CSV to use instead of the built-in Splitwise one.</summary>
    public string? ProfileCsv { get; init; }

    /// <summary>Usable share of device memory, in (0, 1]; default 0.9.</summary>
    public double MemoryUtilization { get; init; } = MemoryModel.DefaultMemoryUtilization;

    /// <summary>Checks every field is in range.</summary>
    /// <exception cref="StrataException">A field is out of range; the message names the flag.</exception>
    public EstimateOptions Validate()
    {
        Require(PromptTokens >= 1, "--prompt", PromptTokens, "a positive number of tokens");
        Require(OutputTokens >= 1, "--output", OutputTokens, "a positive number of tokens");
        Require(Batch >= 1, "--batch", Batch, "a positive number of requests");
        Require((long)PromptTokens + OutputTokens <= MaxTokensPerRequest, "--prompt + --output", (long)PromptTokens + OutputTokens, $"at most {MaxTokensPerRequest:N0} tokens per request");
        Require(TensorParallel is null or >= 1, "--tp", TensorParallel ?? 0, "a positive number of devices");
        Require(MemoryUtilization is > 0 and <= 1, "--memory-utilization", MemoryUtilization, "a fraction in (0, 1]");
        return this;
    }

    private static void Require(bool ok, string flag, double value, string expected)
    {
        if (!ok)
        {
            throw new StrataException($"{flag} is {value}; expected {expected}.");
        }
    }
}
