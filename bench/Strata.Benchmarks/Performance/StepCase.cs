using Strata.Performance;

namespace Strata.Benchmarks.Performance;

/// <summary>One iteration's batch, named for the results table.</summary>
/// <param name="Name">How the case reads in the table (<c>prefill 1x1020</c>).</param>
/// <param name="Shape">The batch the step computes.</param>
public sealed record StepCase(string Name, BatchShape Shape)
{
    /// <summary>A prefill step and a decode step of the Splitwise conversation median (1020 prompt, 129 output tokens).</summary>
    public static IEnumerable<StepCase> All { get; } =
    [
        new("prefill 1x1020", BatchShape.Prefill(1, 1020)),
        new("decode 32x1084", BatchShape.Decode(32, 1020 + 64)),
    ];

    /// <summary>The name, which BenchmarkDotNet prints as the parameter value.</summary>
    public override string ToString() => Name;
}
