namespace Strata.Runtime.Engine;

/// <summary>The tokens one generation produced, and how long it took.</summary>
public sealed record GenerationResult
{
    /// <summary>The prompt's token ids.</summary>
    public required IReadOnlyList<int> PromptTokens { get; init; }

    /// <summary>The generated token ids, in order.</summary>
    public required IReadOnlyList<int> Tokens { get; init; }

    /// <summary>Time to first token: prefill of the prompt plus the first sampling.</summary>
    public required double TtftSeconds { get; init; }

    /// <summary>Mean time per output token after the first (0 when only one was generated).</summary>
    public required double TpotSeconds { get; init; }

    /// <summary>Wall time of the whole generation.</summary>
    public required double TotalSeconds { get; init; }

    /// <summary>The hops that ran the blocks.</summary>
    public required IReadOnlyList<RouteHop> Route { get; init; }

    /// <summary>Decode rate, <c>1 / TPOT</c> (0 when not measurable).</summary>
    public double DecodeTokensPerSecond => TpotSeconds > 0 ? 1 / TpotSeconds : 0;
}
