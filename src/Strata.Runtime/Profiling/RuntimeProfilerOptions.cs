using Strata.Core;

namespace Strata.Runtime.Profiling;

/// <summary>What <see cref="RuntimeProfiler"/> measures and how often.</summary>
public sealed record RuntimeProfilerOptions
{
    /// <summary>Prompt lengths the prefill curve is measured at.</summary>
    public IReadOnlyList<int> PromptTokens { get; init; } = [1, 4, 8, 16, 32, 64];

    /// <summary>Context lengths (the new token included) the decode curve is measured at.</summary>
    public IReadOnlyList<int> ContextTokens { get; init; } = [2, 16, 32, 64, 128];

    /// <summary>Numbers of sessions stepping at once the slowdown is measured at (1 is always measured).</summary>
    public IReadOnlyList<int> Concurrency { get; init; } = [1, 2, 4];

    /// <summary>Timed repetitions per point (the median is kept). Default 15.</summary>
    public int Repetitions { get; init; } = 15;

    /// <summary>Untimed iterations of every kind of call first, so that the JIT has tiered the kernels up. Default 40.</summary>
    public int WarmupIterations { get; init; } = 40;

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="StrataException">A count or size is out of range.</exception>
    public RuntimeProfilerOptions Validate()
    {
        if (Repetitions is < 3 or > 10_000 || WarmupIterations is < 0 or > 100_000)
        {
            throw new StrataException($"--repetitions is {Repetitions} and --warmup {WarmupIterations}; expected 3 to 10000 and 0 to 100000.");
        }

        if (PromptTokens.Count == 0 || ContextTokens.Count == 0 || PromptTokens.Concat(ContextTokens).Concat(Concurrency).Any(n => n is < 1 or > 4096))
        {
            throw new StrataException("Profile sizes must be 1 to 4096 and the prompt and context lists non-empty.");
        }

        return this;
    }
}
