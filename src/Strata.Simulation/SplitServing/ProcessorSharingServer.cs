using Strata.Simulation.Metrics;

namespace Strata.Simulation.SplitServing;

/// <summary>Runs split requests through one processor-sharing server: up to <c>concurrency</c> at full speed, then shared equally.</summary>
/// <remarks>
/// Event-driven over virtual time: every active job receives service at the same rate <c>min(1, c / n)</c>, so a job ends
/// when the server's attained service per job reaches its start value plus its work. Ties break by submission order;
/// the same requests give the same numbers, bit for bit.
/// </remarks>
internal static class ProcessorSharingServer
{
    /// <summary>Serves <paramref name="requests"/> with their arrivals multiplied by <paramref name="timeScale"/>.</summary>
    /// <returns>SLA attainment and the end-to-end latencies.</returns>
    public static (double Attainment, LatencyRecorder E2e) Run(IReadOnlyList<PlannedRequest> requests, double timeScale, int concurrency)
    {
        var e2e = new LatencyRecorder();
        var met = 0;
        var segment = new int[requests.Count];
        var ready = new PriorityQueue<int, (double Time, long Seq)>(requests.Count);
        var active = new PriorityQueue<int, (double FinishService, long Seq)>();
        long sequence = 0;
        for (var i = 0; i < requests.Count; i++)
        {
            ready.Enqueue(i, ((requests[i].ArrivalSeconds * timeScale) + requests[i].LocalSeconds[0], sequence++));
        }

        var now = 0.0;
        var attained = 0.0; // service each active job has received since time 0
        while (ready.Count > 0 || active.Count > 0)
        {
            var rate = active.Count == 0 ? 0 : Math.Min(1.0, (double)concurrency / active.Count);
            var finishTime = double.PositiveInfinity;
            if (active.TryPeek(out _, out var head))
            {
                finishTime = now + ((head.FinishService - attained) / rate);
            }

            var readyTime = ready.TryPeek(out _, out var next) ? next.Time : double.PositiveInfinity;
            var at = Math.Min(finishTime, readyTime);
            attained += (at - now) * rate;
            now = at;
            if (finishTime <= readyTime)
            {
                var done = active.Dequeue();
                var request = requests[done];
                segment[done]++;
                var after = now + request.LocalSeconds[segment[done]];
                if (segment[done] < request.ServerSeconds.Length)
                {
                    ready.Enqueue(done, (after, sequence++));
                }
                else
                {
                    met += Complete(request, after - (request.ArrivalSeconds * timeScale), e2e);
                }

                continue;
            }

            var index = ready.Dequeue();
            var arriving = requests[index];
            if (arriving.ServerSeconds.Length == 0)
            {
                met += Complete(arriving, now - (arriving.ArrivalSeconds * timeScale), e2e);
            }
            else
            {
                active.Enqueue(index, (attained + arriving.ServerSeconds[segment[index]], sequence++));
            }
        }

        return (requests.Count == 0 ? 1.0 : (double)met / requests.Count, e2e);
    }

    private static int Complete(PlannedRequest request, double e2eSeconds, LatencyRecorder e2e)
    {
        e2e.Add(e2eSeconds);
        return e2eSeconds <= request.SlaSeconds * (1 + 1e-12) ? 1 : 0;
    }
}
