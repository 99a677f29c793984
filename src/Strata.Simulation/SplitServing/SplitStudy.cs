using System.Diagnostics;
using Strata.Core;
using Strata.Core.Network;
using Strata.Core.Workload;
using Strata.Planning.Split;
using Strata.Simulation.Workloads;

namespace Strata.Simulation.SplitServing;

/// <summary>
/// Server throughput under client-server splits (SplitLLM): every request of a client population gets its split from a
/// planner given its client's device and link at that moment, and the server serves the server segments of all of them.
/// </summary>
/// <remarks>
/// <para>Each request's costs come from <see cref="SplitCostBuilder"/> (roofline, one request alone); its link bandwidth is
/// its population's nominal one times a seeded log-normal factor of mean 1. The planner sees the SLA less
/// <see cref="SplitStudyOptions.HeadroomFraction"/>, leaving room for queueing; a request no split can serve within it
/// runs all on the server and counts as infeasible.</para>
/// <para>The server is processor sharing with <see cref="SplitStudyOptions.ServerConcurrency"/> full-speed slots
/// (<see cref="ProcessorSharingServer"/>); client compute and transfers never contend (each client has its own device
/// and link). The highest sustainable rate is found by halving then bisecting the arrival rate, with the same requests
/// rescaled in time, to the rate whose SLA attainment stays at or above the target.</para>
/// </remarks>
public static class SplitStudy
{
    private const int BisectionSteps = 24;
    private const int MaxHalvings = 40;

    /// <summary>Runs the study; planners run in parallel, each on the same requests.</summary>
    /// <exception cref="StrataException">An option is out of range or a planner name is unknown.</exception>
    public static SplitStudyResult Run(SplitStudyOptions options, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var wall = Stopwatch.StartNew();
        var planners = options.Planners.Select(SplitPlanners.ByName).ToArray();
        var arrivals = WorkloadBuilder.Build(options.Workload);
        var instances = Instances(options, arrivals, out var clientOf);
        var allServerFlops = instances.Sum(instance => instance.Evaluate(AllServer(instance.LayerCount)).ServerLoad);
        var baseRate = options.Workload.RateRequestsPerSecond!.Value;

        var outcomes = new SplitPlannerOutcome[planners.Length];
        var done = 0;
        Parallel.For(0, planners.Length, new ParallelOptions { CancellationToken = cancellationToken }, p =>
        {
            outcomes[p] = Evaluate(options, planners[p], arrivals, instances, clientOf, allServerFlops, baseRate);
            progress?.Report((double)Interlocked.Increment(ref done) / planners.Length);
        });
        return new SplitStudyResult(baseRate, arrivals.Length, outcomes, wall.Elapsed.TotalSeconds);
    }

    private static SplitInstance[] Instances(SplitStudyOptions options, InferenceRequest[] arrivals, out int[] clientOf)
    {
        var random = new Random(unchecked((options.Workload.Seed * 31) + 7));
        var sigma = Math.Sqrt(Math.Log(1 + (options.BandwidthJitterCv * options.BandwidthJitterCv)));
        var totalShare = options.Clients.Sum(client => client.Share);
        clientOf = new int[arrivals.Length];
        var instances = new SplitInstance[arrivals.Length];
        for (var i = 0; i < arrivals.Length; i++)
        {
            var pick = random.NextDouble() * totalShare;
            var c = 0;
            while (c < options.Clients.Count - 1 && pick >= options.Clients[c].Share)
            {
                pick -= options.Clients[c].Share;
                c++;
            }

            clientOf[i] = c;
            var client = options.Clients[c];
            var factor = sigma == 0 ? 1.0 : Math.Exp((sigma * StandardNormal(random)) - (sigma * sigma / 2));
            var link = new LinkSpec(client.Link.Spec.LatencySeconds, client.Link.Spec.BandwidthBytesPerSecond * factor, client.Link.Id);
            instances[i] = SplitCostBuilder.Build(new SplitCostRequest
            {
                Model = options.Model,
                ClientDevice = client.Device,
                ServerDevice = options.ServerDevice,
                Link = link,
                PromptTokens = arrivals[i].PromptTokens,
                OutputTokens = arrivals[i].OutputTokens,
                SlaSeconds = options.SlaSeconds(arrivals[i].OutputTokens),
                Precision = options.Precision,
            });
        }

        return instances;
    }

    private static SplitPlannerOutcome Evaluate(
        SplitStudyOptions options, ISplitPlanner planner, InferenceRequest[] arrivals, SplitInstance[] instances, int[] clientOf, double allServerFlops, double baseRate)
    {
        var planned = new PlannedRequest[instances.Length];
        var clientLayers = new double[options.Clients.Count];
        var clientFlops = new double[options.Clients.Count];
        var clientRequests = new int[options.Clients.Count];
        var clientInfeasible = new int[options.Clients.Count];
        double flops = 0, serverSeconds = 0;
        var infeasible = 0;
        for (var i = 0; i < instances.Length; i++)
        {
            var instance = instances[i];
            var tightened = new SplitInstance(instance.Layers, instance.SlaSeconds * (1 - options.HeadroomFraction), instance.FinalDownloadSeconds, instance.ClientMemoryBudgetBytes);
            var plan = planner.Plan(tightened);
            if (!plan.Feasible)
            {
                infeasible++;
                clientInfeasible[clientOf[i]]++;
                plan = instance.Evaluate(AllServer(instance.LayerCount));
            }

            planned[i] = Segments(arrivals[i].ArrivalSeconds, instance, plan.Assignment);
            var c = clientOf[i];
            clientRequests[c]++;
            clientLayers[c] += plan.ClientLayerCount;
            clientFlops[c] += plan.ServerLoad;
            flops += plan.ServerLoad;
            serverSeconds += planned[i].ServerSeconds.Sum();
        }

        var (attainment, e2e) = ProcessorSharingServer.Run(planned, 1.0, options.ServerConcurrency);
        var n = Math.Max(1, instances.Length);
        return new SplitPlannerOutcome
        {
            Planner = planner.Name,
            MeanServerFlopsPerRequest = flops / n,
            MeanServerSecondsPerRequest = serverSeconds / n,
            ServerLoadVsAllServer = allServerFlops > 0 ? flops / allServerFlops : double.NaN,
            SlaAttainment = attainment,
            E2e = e2e.Summary(),
            MaxRateRequestsPerSecond = MaxRate(planned, serverSeconds / n, options, baseRate),
            InfeasiblePlans = infeasible,
            Clients = [.. options.Clients.Select((client, c) => new SplitClientOutcome(
                client.Id,
                clientRequests[c],
                clientRequests[c] > 0 ? clientLayers[c] / clientRequests[c] : double.NaN,
                clientRequests[c] > 0 ? clientFlops[c] / clientRequests[c] : double.NaN,
                clientInfeasible[c]))],
        };
    }

    /// <summary>The alternation of local time and server work of one request under <paramref name="assignment"/>.</summary>
    internal static PlannedRequest Segments(double arrivalSeconds, SplitInstance instance, IReadOnlyList<SplitSide> assignment)
    {
        var local = new List<double> { 0 };
        var server = new List<double>();
        var previous = SplitSide.Client;
        for (var l = 0; l < instance.LayerCount; l++)
        {
            var layer = instance.Layers[l];
            var side = assignment[l];
            if (side == SplitSide.Server)
            {
                if (previous == SplitSide.Client)
                {
                    local[^1] += layer.UploadSeconds;
                    server.Add(0);
                    local.Add(0);
                }

                server[^1] += layer.ServerSeconds;
            }
            else
            {
                local[^1] += layer.ClientSeconds + (previous == SplitSide.Server ? layer.DownloadSeconds : 0);
            }

            previous = side;
        }

        if (previous == SplitSide.Server)
        {
            local[^1] += instance.FinalDownloadSeconds;
        }

        return new PlannedRequest(arrivalSeconds, [.. local], [.. server], instance.SlaSeconds);
    }

    private static double MaxRate(PlannedRequest[] planned, double meanServerSeconds, SplitStudyOptions options, double baseRate)
    {
        bool Sustains(double rate) => ProcessorSharingServer.Run(planned, baseRate / rate, options.ServerConcurrency).Attainment >= options.TargetAttainment;

        // Above concurrency / mean server seconds the server's queue grows without bound, however well a finite run fares.
        if (meanServerSeconds <= 0)
        {
            return double.PositiveInfinity;
        }

        var high = options.ServerConcurrency / meanServerSeconds;
        if (Sustains(high))
        {
            return high;
        }

        var low = high / 2;
        for (var i = 0; !Sustains(low); i++)
        {
            if (i == MaxHalvings)
            {
                return 0;
            }

            high = low;
            low /= 2;
        }

        for (var i = 0; i < BisectionSteps; i++)
        {
            var middle = (low + high) / 2;
            if (Sustains(middle))
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    private static SplitSide[] AllServer(int layers)
    {
        var sides = new SplitSide[layers];
        Array.Fill(sides, SplitSide.Server);
        return sides;
    }

    private static double StandardNormal(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
