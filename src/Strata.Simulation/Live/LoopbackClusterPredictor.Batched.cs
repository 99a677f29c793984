using Strata.Performance.Batching;
using Strata.Performance.Profiles;

namespace Strata.Simulation.Live;

/// <summary>The batching model: block servers batch the one-token steps queued at them; every CPU job shares the cores.</summary>
/// <remarks>
/// <para>Jobs and the logical processors <c>P</c> they ask for: a hop's gRPC overhead (serialisation, HTTP/2, thread
/// hand-offs: one thread, 1), a server's batched decode step or prefill and the client's head (the kernels split their
/// products over every processor, <c>P</c>). While the jobs running ask for <c>D</c> processors in all, each advances at
/// <c>min(1, P / D)</c> of its speed alone (fair sharing by threads).</para>
/// <para>A server runs one batch at a time, as its <c>DecodeBatcher</c> does, by the same rule
/// (<see cref="DecodeBatchRule{TSession}"/>, one instance per server): when idle it takes the steps queued (at most
/// <see cref="MaxBatchRows"/>), first waiting for the sessions of its recent batches predicted back within half its last
/// batch's time (at most <see cref="RuntimeProfile.DecodeReturnWaitSeconds"/>) until they are in, or, when it predicts
/// none and cannot rule them out, <see cref="RuntimeProfile.DecodeBatchWaitSeconds"/> unless its last batch ran alone
/// with nothing queued meanwhile; a session that ends is forgotten. The batch of <c>m</c> costs the blocks times the
/// decode step at the rows' mean context times <see cref="RuntimeProfile.BatchCost"/>(<c>m</c>). The emulated round trip
/// is a wait after the server's work, as the servers add it.</para>
/// <para>Prefills start in arrival order, at most <c>P</c> at once (a server's calls run on the thread pool, which starts
/// with one thread per processor; the others wait their turn). Each asks for <c>u</c> processors: <c>P</c> (its kernels
/// split over every processor) unless the profile measured concurrent prefills
/// (<see cref="RuntimeProfile.PrefillConcurrency"/>), then the <c>u</c> in <c>[1, P]</c> at which this rule reproduces the
/// measured mean completion of the largest count measured (<see cref="PrefillProcessors"/>): one prefill alone leaves part
/// of the machine idle and concurrent ones share the weights in cache. With <c>u = P</c>, <c>k</c> prefills at once (a
/// multiple of <c>P</c>) finish on average after <c>(k + P) / 2</c> times one prefill (2 and 3 at <c>k</c> = 2 and 4 for
/// <c>P = 2</c>; the 2-core Xeon measured 2.0 to 2.8 at 4). Staggered completions let one session's prefill overlap
/// another's round trip.</para>
/// <para>A session starts with its routing calls (two hop overheads) and <see cref="RuntimeProfile.SessionOpenSeconds"/>,
/// both one-thread work.</para>
/// <para>Spot checks (<see cref="LiveSessionPlan.VerifyFraction"/> <c>f</c>) in expectation, after every step of a hop
/// with a replica: <c>f</c> of a hop overhead and of the round trip to the replica, and the replica's replay of the rows
/// since its last check (about <c>1 / f</c>, priced as a prefill of that many tokens) times <c>f</c>.</para>
/// </remarks>
public static partial class LoopbackClusterPredictor
{
    /// <summary>Most rows of one batched decode step (the block servers' default).</summary>
    public const int MaxBatchRows = 16;

    private const double Epsilon = 1e-12;

    private enum Kind
    {
        Compute,
        Wait,
        ServerStep,
    }

    private enum ServerState
    {
        Idle,
        Window,
        Running,
    }

    private readonly record struct Phase(Kind Kind, double Seconds, double Processors, bool FirstToken = false, int Server = -1, int Blocks = 0, double Context = 0, bool Prefill = false);

    private sealed class Server(RuntimeProfile profile)
    {
        public List<int> Queue { get; } = [];

        public List<int> Batch { get; } = [];

        public ServerState State { get; set; }

        public DecodeBatchRule<int> Rule { get; } = new(profile.DecodeBatchWaitSeconds, profile.DecodeReturnWaitSeconds);

        public double WindowEndSeconds { get; set; }

        public double StartSeconds { get; set; }

        public int Blocks { get; set; }

        public int Steps { get; set; }

        public int Rows { get; set; }

        public double RemainingSeconds { get; set; }

        // The batcher's rule says the batch may run: full, or every session it waits for is in.
        public bool Ready => Queue.Count >= MaxBatchRows || (Rule.Expected.Count > 0 && Rule.AllArrived);
    }

    private static (IReadOnlyList<LiveSessionPrediction> Sessions, IReadOnlyList<LiveServerBatches> Servers) PredictBatched(RuntimeProfile profile, IReadOnlyList<LiveSessionPlan> sessions)
    {
        var processors = (double)profile.LogicalProcessors;
        var serverIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var phases = sessions.Select(s => BatchedPhases(profile, s, processors, serverIds)).ToArray();
        var servers = Enumerable.Range(0, serverIds.Count).Select(_ => new Server(profile)).ToArray();
        var n = phases.Length;
        var index = new int[n];
        var remaining = new double[n];
        var queued = new bool[n];
        var ttft = new double[n];
        var end = new double[n];
        for (var i = 0; i < n; i++)
        {
            remaining[i] = phases[i].Count > 0 ? phases[i][0].Seconds : 0;
            end[i] = phases[i].Count > 0 ? double.NaN : 0;
        }

        var now = 0.0;
        var prefillSlots = Math.Max(1, profile.LogicalProcessors);
        var admitted = new bool[n];
        var admittedPrefills = 0;
        var waitingPrefills = new List<int>();
        void Advance(int i)
        {
            if (phases[i][index[i]].FirstToken)
            {
                ttft[i] = now;
            }

            if (admitted[i])
            {
                admitted[i] = false;
                admittedPrefills--;
            }

            index[i]++;
            queued[i] = false;
            if (index[i] < phases[i].Count)
            {
                remaining[i] = phases[i][index[i]].Seconds;
            }
            else
            {
                end[i] = now;
                foreach (var server in servers)
                {
                    server.Rule.Forget(i); // its client closes the session
                }
            }
        }

        while (true)
        {
            // Settle the sessions due now: finished phases, steps joining a server's queue, prefills starting.
            for (var changed = true; changed;)
            {
                changed = false;
                for (var i = 0; i < n; i++)
                {
                    if (index[i] >= phases[i].Count || queued[i])
                    {
                        continue;
                    }

                    var phase = phases[i][index[i]];
                    if (phase.Kind == Kind.ServerStep)
                    {
                        servers[phase.Server].Queue.Add(i);
                        servers[phase.Server].Rule.Arrived(i, now);
                        queued[i] = true;
                        changed = true;
                    }
                    else if (phase.Prefill && !admitted[i])
                    {
                        waitingPrefills.Add(i);
                        queued[i] = true;
                        changed = true;
                    }
                    else if (remaining[i] <= Epsilon)
                    {
                        Advance(i);
                        changed = true;
                    }
                }

                // Prefills start in arrival order, at most one per processor at once (the thread pool's threads).
                while (admittedPrefills < prefillSlots && waitingPrefills.Count > 0)
                {
                    var next = waitingPrefills[0];
                    waitingPrefills.RemoveAt(0);
                    queued[next] = false;
                    admitted[next] = true;
                    admittedPrefills++;
                    changed = true;
                }
            }

            // Then the servers, once every step due now has joined its queue (steps arriving at one instant share a batch).
            foreach (var server in servers)
            {
                if (server.State == ServerState.Idle && server.Queue.Count > 0)
                {
                    server.WindowEndSeconds = server.Queue.Count < MaxBatchRows
                        ? server.Rule.Open(0, phases[server.Queue[0]][index[server.Queue[0]]].Blocks, now)
                        : now;
                    server.State = ServerState.Window;
                }

                if (server.State == ServerState.Window && (now >= server.WindowEndSeconds - Epsilon || server.Ready))
                {
                    server.Rule.Close();
                    StartBatch(profile, server, phases, index, now);
                }
            }

            if (index.Select((p, i) => p >= phases[i].Count).All(done => done))
            {
                break;
            }

            // Processors asked for by the jobs running, and the share each gets.
            var demand = 0.0;
            for (var i = 0; i < n; i++)
            {
                if (index[i] < phases[i].Count && !queued[i] && phases[i][index[i]].Kind == Kind.Compute)
                {
                    demand += phases[i][index[i]].Processors;
                }
            }

            demand += servers.Count(s => s.State == ServerState.Running) * processors;
            var rate = demand > processors ? processors / demand : 1;

            var step = double.PositiveInfinity;
            for (var i = 0; i < n; i++)
            {
                if (index[i] < phases[i].Count && !queued[i])
                {
                    step = Math.Min(step, phases[i][index[i]].Kind == Kind.Compute ? remaining[i] / rate : remaining[i]);
                }
            }

            foreach (var server in servers)
            {
                step = server.State switch
                {
                    ServerState.Running => Math.Min(step, server.RemainingSeconds / rate),
                    ServerState.Window => Math.Min(step, server.WindowEndSeconds - now),
                    _ => step,
                };
            }

            if (!double.IsFinite(step))
            {
                throw new InvalidOperationException("The loopback prediction stalled: a session waits on a server that runs nothing.");
            }

            step = Math.Max(0, step);
            now += step;
            for (var i = 0; i < n; i++)
            {
                if (index[i] < phases[i].Count && !queued[i])
                {
                    remaining[i] -= phases[i][index[i]].Kind == Kind.Compute ? step * rate : step;
                }
            }

            foreach (var server in servers.Where(s => s.State == ServerState.Running))
            {
                server.RemainingSeconds -= step * rate;
                if (server.RemainingSeconds <= Epsilon)
                {
                    foreach (var i in server.Batch)
                    {
                        Advance(i);
                    }

                    server.Rule.StepRan(server.Batch, 0, server.Blocks, server.StartSeconds, now, server.Queue.Count > 0);
                    server.Batch.Clear();
                    server.State = ServerState.Idle;
                }
            }
        }

        return ([.. Enumerable.Range(0, n).Select(i => new LiveSessionPrediction(
                ttft[i], sessions[i].OutputTokens > 1 ? (end[i] - ttft[i]) / (sessions[i].OutputTokens - 1) : 0, end[i]))],
            [.. serverIds.OrderBy(s => s.Value).Select(s => new LiveServerBatches(s.Key, servers[s.Value].Steps, servers[s.Value].Rows))]);
    }

    // Takes the oldest queued steps of one block range (at most MaxBatchRows) and prices them as one batched step.
    private static void StartBatch(RuntimeProfile profile, Server server, List<Phase>[] phases, int[] index, double now)
    {
        var blocks = phases[server.Queue[0]][index[server.Queue[0]]].Blocks;
        server.Blocks = blocks;
        server.StartSeconds = now;
        foreach (var i in server.Queue.Where(i => phases[i][index[i]].Blocks == blocks).Take(MaxBatchRows).ToArray())
        {
            server.Batch.Add(i);
            server.Queue.Remove(i);
        }

        server.Steps++;
        server.Rows += server.Batch.Count;
        var context = server.Batch.Average(i => phases[i][index[i]].Context);
        server.RemainingSeconds = blocks * profile.DecodeSeconds(context) * profile.BatchCost(server.Batch.Count);
        server.State = ServerState.Running;
    }

    /// <summary>
    /// Processors one prefill asks for: <paramref name="processors"/> without a measured
    /// <see cref="RuntimeProfile.PrefillConcurrency"/>; with one, the demand <c>u</c> in <c>[1, P]</c> at which the largest
    /// count <c>k</c> measured, admitted <c>P</c> at a time in waves of <c>u</c> times one prefill each, finishes on average
    /// at the measured multiple <c>r</c>: <c>u = r / mean wave</c>, the mean wave of <c>k</c> sessions being
    /// <c>sum(ceil(i / P)) / k</c> (1.5 for four on two processors).
    /// </summary>
    internal static double PrefillProcessors(RuntimeProfile profile, double processors)
    {
        if (profile.PrefillConcurrency is not { Count: > 1 } points)
        {
            return processors;
        }

        var largest = points.MaxBy(p => p.Size)!;
        var slots = Math.Max(1, profile.LogicalProcessors);
        var meanWave = Enumerable.Range(1, largest.Size).Average(i => Math.Ceiling(i / (double)slots));
        return Math.Clamp(largest.Value / meanWave, 1, processors);
    }

    private static List<Phase> BatchedPhases(RuntimeProfile profile, LiveSessionPlan plan, double processors, Dictionary<string, int> serverIds)
    {
        var prefillProcessors = PrefillProcessors(profile, processors);
        var hop = profile.HopOverheadSeconds;
        var servers = new int[plan.Hops.Count];
        for (var h = 0; h < servers.Length; h++)
        {
            var key = plan.Servers is { } names && h < names.Count ? names[h] : $"hop {h}";
            if (!serverIds.TryGetValue(key, out var id))
            {
                serverIds[key] = id = serverIds.Count;
            }

            servers[h] = id;
        }

        var f = plan.VerifyFraction;
        var replayRows = f > 0 ? (int)Math.Max(1, Math.Round(1 / f)) : 0;
        var list = new List<Phase> { new(Kind.Compute, (2 * hop) + profile.SessionOpenSeconds, 1) };
        void SpotCheck(int h, int rows)
        {
            if (f > 0 && plan.ReplicaRttSeconds is { } replicas && h < replicas.Count && double.IsFinite(replicas[h]))
            {
                list.Add(new(Kind.Compute, f * hop, 1));
                list.Add(new(Kind.Compute, f * plan.Hops[h].BlockCount * profile.PrefillSeconds(rows), processors));
                list.Add(new(Kind.Wait, f * replicas[h], 0));
            }
        }

        for (var h = 0; h < plan.Hops.Count; h++)
        {
            var (blocks, rtt) = plan.Hops[h];
            list.Add(new(Kind.Compute, hop, 1));
            list.Add(new(Kind.Compute, blocks * profile.PrefillSeconds(plan.PromptTokens), prefillProcessors, Prefill: true));
            list.Add(new(Kind.Wait, rtt, 0));
            SpotCheck(h, plan.PromptTokens);
        }

        list.Add(new(Kind.Compute, profile.HeadPrefillSeconds, processors, FirstToken: true));
        for (var token = 1; token < plan.OutputTokens; token++)
        {
            var context = plan.PromptTokens + token;
            for (var h = 0; h < plan.Hops.Count; h++)
            {
                var (blocks, rtt) = plan.Hops[h];
                list.Add(new(Kind.Compute, hop, 1));
                list.Add(new(Kind.ServerStep, 0, 0, Server: servers[h], Blocks: blocks, Context: context));
                list.Add(new(Kind.Wait, rtt, 0));
                SpotCheck(h, replayRows);
            }

            list.Add(new(Kind.Compute, profile.HeadDecodeSeconds, processors));
        }

        list.Add(new(Kind.Compute, hop, 1));
        list.Add(new(Kind.Wait, plan.Hops.Count == 0 ? 0 : plan.Hops.Max(h => h.RttSeconds), 0));
        return list;
    }
}
