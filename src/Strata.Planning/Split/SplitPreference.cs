namespace Strata.Planning.Split;

/// <summary>The order in which planners prefer plans: feasible by least load, else fastest within the memory budget.</summary>
internal static class SplitPreference
{
    /// <summary>Whether <paramref name="candidate"/> is strictly preferable to <paramref name="incumbent"/> (<see langword="null"/>: always).</summary>
    /// <remarks>
    /// Rank first: feasible, then fits memory but misses the SLA, then over the memory budget. Feasible plans compare by
    /// least server load, then least latency; the others by least latency, then least server load.
    /// </remarks>
    public static bool IsBetter(SplitPlan candidate, SplitPlan? incumbent)
    {
        if (incumbent is null)
        {
            return true;
        }

        var candidateRank = Rank(candidate);
        var incumbentRank = Rank(incumbent);
        if (candidateRank != incumbentRank)
        {
            return candidateRank < incumbentRank;
        }

        return candidateRank == 0
            ? LessLoadThenLatency(candidate.ServerLoad, candidate.LatencySeconds, incumbent.ServerLoad, incumbent.LatencySeconds)
            : LessLatencyThenLoad(candidate.LatencySeconds, candidate.ServerLoad, incumbent.LatencySeconds, incumbent.ServerLoad);
    }

    /// <summary>Least load first, ties by least latency.</summary>
    public static bool LessLoadThenLatency(double load, double latencySeconds, double bestLoad, double bestLatencySeconds) =>
        load < bestLoad || (load == bestLoad && latencySeconds < bestLatencySeconds);

    /// <summary>Least latency first, ties by least load.</summary>
    public static bool LessLatencyThenLoad(double latencySeconds, double load, double bestLatencySeconds, double bestLoad) =>
        latencySeconds < bestLatencySeconds || (latencySeconds == bestLatencySeconds && load < bestLoad);

    private static int Rank(SplitPlan plan) => plan.Feasible ? 0 : plan.FitsClientMemory ? 1 : 2;
}
