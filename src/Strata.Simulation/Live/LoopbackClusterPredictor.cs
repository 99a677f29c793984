using Strata.Performance.Profiles;

namespace Strata.Simulation.Live;

/// <summary>
/// Predicts generations through Strata's runtime on one machine (a loopback cluster) from a <see cref="RuntimeProfile"/>:
/// a discrete-event run of each session's compute and network phases, compute shared by every session computing at once.
/// </summary>
/// <remarks>
/// <para>A session: routing (two coordinator calls, each one hop overhead of compute); the prefill, per hop the hop
/// overhead plus <c>k</c> blocks of prefill at the prompt length as compute, then the hop's round trip as a wait;
/// the head; then per output token after the first the same with one-token decode steps at the growing context; finally
/// closing (one hop overhead, then the longest round trip of the route: the closes run in parallel).</para>
/// <para>With a profile that holds <see cref="RuntimeProfile.DecodeBatchCost"/> (the batching model,
/// <c>LoopbackClusterPredictor.Batched.cs</c>): each server batches the one-token steps queued at it as its decode
/// batcher does (a batch of <c>m</c> costs <c>m</c>'s batch cost times one step), and every CPU job (the servers' batches
/// and prefills, the clients' heads, each hop's gRPC overhead) shares the machine's logical processors by the threads it
/// runs on. Without it (older profiles): compute is processor sharing with <c>m</c> sessions computing each advancing at
/// <c>1 / slowdown(m)</c>, the slowdown the profile measured with <c>m</c> sessions decoding at once.
/// Waits (round trips) take no CPU. Nothing here is fitted on the generations predicted.</para>
/// </remarks>
public static partial class LoopbackClusterPredictor
{
    /// <summary>Predicts <paramref name="sessions"/>, all started at once.</summary>
    public static IReadOnlyList<LiveSessionPrediction> Predict(RuntimeProfile profile, IReadOnlyList<LiveSessionPlan> sessions) =>
        PredictWithBatches(profile, sessions).Sessions;

    /// <summary>
    /// Predicts <paramref name="sessions"/>, all started at once, with the decode batches the batching model runs at each
    /// server (none without it), for a check against the servers' own counts.
    /// </summary>
    public static (IReadOnlyList<LiveSessionPrediction> Sessions, IReadOnlyList<LiveServerBatches> Servers) PredictWithBatches(
        RuntimeProfile profile, IReadOnlyList<LiveSessionPlan> sessions)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(sessions);
        if (profile.HasBatchModel)
        {
            return PredictBatched(profile, sessions);
        }

        var phases = sessions.Select(s => Phases(profile, s)).ToArray();
        var n = phases.Length;
        var index = new int[n];
        var remaining = new double[n];
        var ttft = new double[n];
        var end = new double[n];
        for (var i = 0; i < n; i++)
        {
            remaining[i] = phases[i].Count > 0 ? phases[i][0].Seconds : 0;
            end[i] = double.NaN;
        }

        var now = 0.0;
        while (true)
        {
            var computing = 0;
            var active = false;
            for (var i = 0; i < n; i++)
            {
                if (index[i] < phases[i].Count)
                {
                    active = true;
                    if (phases[i][index[i]].Compute)
                    {
                        computing++;
                    }
                }
            }

            if (!active)
            {
                break;
            }

            var slowdown = profile.Slowdown(computing);
            var step = double.PositiveInfinity;
            for (var i = 0; i < n; i++)
            {
                if (index[i] < phases[i].Count)
                {
                    step = Math.Min(step, phases[i][index[i]].Compute ? remaining[i] * slowdown : remaining[i]);
                }
            }

            now += step;
            for (var i = 0; i < n; i++)
            {
                if (index[i] >= phases[i].Count)
                {
                    continue;
                }

                var phase = phases[i][index[i]];
                remaining[i] -= phase.Compute ? step / slowdown : step;
                while (index[i] < phases[i].Count && remaining[i] <= 1e-12)
                {
                    if (phases[i][index[i]].FirstToken)
                    {
                        ttft[i] = now;
                    }

                    index[i]++;
                    if (index[i] < phases[i].Count)
                    {
                        remaining[i] += phases[i][index[i]].Seconds;
                    }
                    else
                    {
                        end[i] = now;
                    }
                }
            }
        }

        return ([.. Enumerable.Range(0, n).Select(i => new LiveSessionPrediction(
            ttft[i], sessions[i].OutputTokens > 1 ? (end[i] - ttft[i]) / (sessions[i].OutputTokens - 1) : 0, end[i]))], []);
    }

    private static List<(bool Compute, double Seconds, bool FirstToken)> Phases(RuntimeProfile profile, LiveSessionPlan plan)
    {
        var list = new List<(bool Compute, double Seconds, bool FirstToken)> { (true, 2 * profile.HopOverheadSeconds, false) };
        foreach (var (blocks, rtt) in plan.Hops)
        {
            list.Add((true, profile.HopOverheadSeconds + (blocks * profile.PrefillSeconds(plan.PromptTokens)), false));
            list.Add((false, rtt, false));
        }

        list.Add((true, profile.HeadPrefillSeconds, true));
        for (var token = 1; token < plan.OutputTokens; token++)
        {
            var context = plan.PromptTokens + token;
            foreach (var (blocks, rtt) in plan.Hops)
            {
                list.Add((true, profile.HopOverheadSeconds + (blocks * profile.DecodeSeconds(context)), false));
                list.Add((false, rtt, false));
            }

            list.Add((true, profile.HeadDecodeSeconds, false));
        }

        list.Add((true, profile.HopOverheadSeconds, false));
        list.Add((false, plan.Hops.Count == 0 ? 0 : plan.Hops.Max(h => h.RttSeconds), false));
        return list;
    }
}
