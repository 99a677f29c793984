namespace Strata.Core.Scenarios;

/// <summary>The latency objectives of a scenario: absolute classes and/or relative (slowdown) objectives.</summary>
/// <param name="Classes">Absolute objectives per request class (<c>slos.classes</c>); the first is class 0, the default.</param>
/// <param name="Slowdown">Relative objectives (<c>slos.slowdown</c>).</param>
public sealed record SloSpec(IReadOnlyList<SloClass> Classes, SlowdownSlo Slowdown)
{
    /// <summary>No objectives at all.</summary>
    public static SloSpec None { get; } = new([], SlowdownSlo.None);

    /// <summary>Whether no objective is set.</summary>
    public bool IsEmpty => Classes.Count == 0 && Slowdown == SlowdownSlo.None;
}
