using Strata.Core;
using Strata.Runtime.Weights;

namespace Strata.Cli.Demo;

/// <summary>What <c>strata demo</c> runs on its local cluster.</summary>
internal sealed record RuntimeDemoOptions
{
    /// <summary>The random model preset (tiny: 4 blocks; small: 12 blocks, about 100 M parameters).</summary>
    public ModelPreset Preset { get; init; } = ModelPreset.Tiny;

    /// <summary>Requests per path, run concurrently. Default 4.</summary>
    public int Requests { get; init; } = 4;

    /// <summary>Tokens generated per request. Default 24.</summary>
    public int MaxTokens { get; init; } = 24;

    /// <summary>Seed of the model's weights (and of nothing else: decoding is greedy). Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Kill a block server in the middle of a generation and check the output is unchanged. Default true.</summary>
    public bool Failover { get; init; } = true;

    /// <summary>How long each child process may take to start. Default 60 s.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Checks the ranges.</summary>
    public RuntimeDemoOptions Validate()
    {
        if (Requests is < 1 or > 64)
        {
            throw new StrataException($"--requests is {Requests}; expected 1 to 64.");
        }

        if (MaxTokens is < 2 or > 512)
        {
            throw new StrataException($"--max-tokens is {MaxTokens}; expected 2 to 512.");
        }

        return this;
    }
}
