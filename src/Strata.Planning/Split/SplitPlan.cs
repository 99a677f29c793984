namespace Strata.Planning.Split;

/// <summary>A side for every layer of a split instance, with what that assignment costs.</summary>
/// <remarks>
/// Built only by <see cref="SplitInstance.Evaluate"/>, so the numbers always agree with the cost model.
/// An infeasible plan is still a full assignment: planners return their fastest candidate when none meets the SLA.
/// </remarks>
public sealed record SplitPlan
{
    internal SplitPlan(SplitSide[] assignment, double latencySeconds, double serverLoad, double clientMemoryBytes, bool meetsSla, bool fitsClientMemory)
    {
        Assignment = assignment;
        LatencySeconds = latencySeconds;
        ServerLoad = serverLoad;
        ClientMemoryBytes = clientMemoryBytes;
        MeetsSla = meetsSla;
        FitsClientMemory = fitsClientMemory;
    }

    /// <summary>Whether the plan meets the SLA and fits the client memory budget.</summary>
    public bool Feasible => MeetsSla && FitsClientMemory;

    /// <summary>Whether <see cref="LatencySeconds"/> is at most the instance's SLA.</summary>
    public bool MeetsSla { get; }

    /// <summary>Whether <see cref="ClientMemoryBytes"/> is within the instance's client memory budget (always true without one).</summary>
    public bool FitsClientMemory { get; }

    /// <summary>The side of each layer, in layer order.</summary>
    public IReadOnlyList<SplitSide> Assignment { get; }

    /// <summary>End-to-end latency: layer times, transfers at every side switch, and the final download when the last layer is on the server.</summary>
    public double LatencySeconds { get; }

    /// <summary>Sum of the server loads of the layers on the server.</summary>
    public double ServerLoad { get; }

    /// <summary>Sum of the client memory of the layers on the client.</summary>
    public double ClientMemoryBytes { get; }

    /// <summary>Number of layers on the client.</summary>
    public int ClientLayerCount
    {
        get
        {
            var count = 0;
            foreach (var side in Assignment)
            {
                count += side == SplitSide.Client ? 1 : 0;
            }

            return count;
        }
    }

    /// <summary>The assignment as a compact string, one letter per layer: <c>C</c> client, <c>S</c> server.</summary>
    public string AssignmentText => string.Create(Assignment.Count, Assignment, static (span, sides) =>
    {
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = sides[i] == SplitSide.Client ? 'C' : 'S';
        }
    });
}
