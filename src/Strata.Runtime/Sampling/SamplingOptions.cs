using Strata.Core;

namespace Strata.Runtime.Sampling;

/// <summary>How the next token is chosen from the logits.</summary>
public sealed record SamplingOptions
{
    /// <summary>Greedy decoding: always the most likely token.</summary>
    public static SamplingOptions Greedy { get; } = new();

    /// <summary>Softmax temperature; 0 (the default) means greedy. Range: 0 or a finite positive number.</summary>
    public double Temperature { get; init; }

    /// <summary>Nucleus sampling: sample among the most likely tokens whose probabilities add up to this. Range (0, 1]; default 1 (all).</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Seed of the sampling stream; the same seed and logits give the same tokens.</summary>
    public ulong Seed { get; init; }

    /// <summary>Whether this is greedy decoding.</summary>
    public bool IsGreedy => Temperature == 0;

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="StrataException">Temperature is negative or not finite, or top-p is outside (0, 1].</exception>
    public SamplingOptions Validate()
    {
        if (!double.IsFinite(Temperature) || Temperature < 0)
        {
            throw new StrataException($"Temperature {Temperature} is invalid; expected 0 (greedy) or a positive number such as 0.8.");
        }

        if (!double.IsFinite(TopP) || TopP <= 0 || TopP > 1)
        {
            throw new StrataException($"Top-p {TopP} is invalid; expected a number in (0, 1], such as 0.9.");
        }

        return this;
    }
}
