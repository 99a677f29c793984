using System.Globalization;
using Google.OrTools.Sat;
using Strata.Core;
using Strata.Planning.Routing;
using Strata.Planning.Swarm;

namespace Strata.Planning.Placement;

/// <summary>
/// The exact joint placement and routing of Sun et al. as a CP-SAT model (Google OR-Tools): integer <c>a_j, m_j</c> per
/// server, a 0/1 hop flow per session from its client through the servers back to it, cache for every
/// (session, block) pair, and the least total request time.
/// </summary>
/// <remarks>
/// <para>Variables: <c>a_j in [0, L-1]</c>, <c>m_j in [0, max blocks]</c>, <c>e_j = a_j + m_j &lt;= L</c>; per session r and
/// hop (i -> j) a literal <c>f^r_ij</c>; <c>k^r_j</c> blocks r runs at j. Constraints: one unit of flow per session,
/// conservation at each server; <c>f^r_ij =&gt; a_j &lt;= e_i, e_i + 1 &lt;= e_j, k^r_j = e_j - e_i</c> (client -> j:
/// <c>a_j = 0</c>; j -> client: <c>e_j = L</c>): half-reified linear constraints, CP-SAT's exact form of the paper's
/// big-M. Memory: <c>s_m m_j + s_c sum_r k^r_j &lt;= M_j</c>, in kilobytes rounded against the solution.</para>
/// <para>Objective: <c>sum_r sum_hops [t_in + (l_max - 1) t] + [tau_in + (l_max - 1) tau] k</c>, the whole-request time of
/// every session, in units of 0.1 ms. Sessions belong to clients round-robin. NP-hard: the optimality reference on
/// small instances, with a time limit and the proven gap reported.</para>
/// </remarks>
public sealed class MilpPlacement : IPlacementPolicy
{
    /// <summary>Objective units per second.</summary>
    public const double UnitsPerSecond = 1e4;

    private readonly double _timeLimitSeconds;
    private readonly int? _sessions;
    private readonly int _seed;
    private readonly int _workers;

    /// <summary>Registers the MILP with <see cref="PlacementPolicies"/> under <see cref="PlacementPolicies.Milp"/> (idempotent).</summary>
    public static void Register() =>
        PlacementPolicies.Register(PlacementPolicies.Milp, settings => new MilpPlacement(settings.SolverTimeLimitSeconds, settings.Sessions, workers: settings.SolverWorkers));

    /// <summary>Creates the policy: at most <paramref name="timeLimitSeconds"/> of solving; <paramref name="sessions"/> concurrent sessions (null: from the load, as CG-BP's R); <paramref name="workers"/> CP-SAT workers (1 is deterministic when it proves optimality).</summary>
    public MilpPlacement(double timeLimitSeconds = 60, int? sessions = null, int seed = 0, int workers = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);
        _workers = workers;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeLimitSeconds);
        _timeLimitSeconds = timeLimitSeconds;
        _sessions = sessions;
        _seed = seed;
    }

    /// <inheritdoc />
    public string Name => "milp";

    /// <inheritdoc />
    public PlacementResult Place(SwarmInstance instance, double rateRequestsPerSecond)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var sessions = _sessions ?? ConservativeGreedyPlacement.ChooseConcurrency(instance, rateRequestsPerSecond);
        var clients = Enumerable.Range(0, sessions).Select(s => s % instance.Clients.Count).ToArray();
        return Solve(instance, clients, _timeLimitSeconds, _seed, _workers);
    }

    /// <summary>Solves for one session per entry of <paramref name="sessionClients"/> (each a client index) with <paramref name="workers"/> CP-SAT workers (1: deterministic).</summary>
    /// <exception cref="StrataException">The model is infeasible, or the time limit passed before any solution.</exception>
    public static PlacementResult Solve(SwarmInstance instance, IReadOnlyList<int> sessionClients, double timeLimitSeconds, int seed = 0, int workers = 1)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(sessionClients);
        if (instance.Forwarding == ForwardingMode.HubAndSpoke)
        {
            return SolveBlockFormulation(instance, sessionClients, timeLimitSeconds, seed, workers);
        }

        var n = instance.Servers.Count;
        var layers = instance.LayerCount;
        var steps = instance.OutputTokens - 1;
        var model = new CpModel();
        var first = new IntVar[n];
        var count = new IntVar[n];
        var end = new IntVar[n];
        for (var j = 0; j < n; j++)
        {
            first[j] = model.NewIntVar(0, layers - 1, $"a{j}");
            count[j] = model.NewIntVar(0, instance.MaxBlocks(j), $"m{j}");
            end[j] = model.NewIntVar(0, layers, $"e{j}");
            model.Add(end[j] == first[j] + count[j]);
        }

        var objective = LinearExpr.NewBuilder();
        var blocksAt = new IntVar[sessionClients.Count, n];
        var firstHop = new LinearExpr[sessionClients.Count];
        var hops = new BoolVar[sessionClients.Count][,];
        var leaves = new BoolVar[sessionClients.Count][];
        var exitHop = new LinearExpr[sessionClients.Count];
        for (var r = 0; r < sessionClients.Count; r++)
        {
            var client = sessionClients[r];
            // hop[i + 1, j]: from i (-1: the client) into server j; leave[j]: from j back to the client.
            var hop = new BoolVar[n + 1, n];
            var leave = new BoolVar[n];
            hops[r] = hop;
            leaves[r] = leave;
            for (var j = 0; j < n; j++)
            {
                for (var i = -1; i < n; i++)
                {
                    if (i != j)
                    {
                        hop[i + 1, j] = model.NewBoolVar($"f{r}_{i}_{j}");
                    }
                }
            }

            for (var j = 0; j < n; j++)
            {
                leave[j] = model.NewBoolVar($"f{r}_{j}_out");
                model.Add(end[j] == layers).OnlyEnforceIf(leave[j]);
                objective.AddTerm(leave[j], Units(instance.ExitRequestSeconds(client, j)));
                blocksAt[r, j] = model.NewIntVar(0, layers, $"k{r}_{j}");
                var network = new List<BoolVar>();
                for (var i = -1; i < n; i++)
                {
                    if (i == j)
                    {
                        continue;
                    }

                    var f = hop[i + 1, j];
                    network.Add(f);
                    var enterSeconds = instance.EnterPromptSeconds(client, i, j, instance.PromptTokens) + (steps * instance.EnterSecondsPerToken(client, i, j));
                    objective.AddTerm(f, Units(enterSeconds));
                    if (i < 0)
                    {
                        model.Add(first[j] == 0).OnlyEnforceIf(f);
                        model.Add(blocksAt[r, j] == end[j]).OnlyEnforceIf(f);
                    }
                    else
                    {
                        model.Add(first[j] <= end[i]).OnlyEnforceIf(f);
                        model.Add(end[i] + 1 <= end[j]).OnlyEnforceIf(f);
                        model.Add(blocksAt[r, j] == end[j] - end[i]).OnlyEnforceIf(f);
                    }
                }

                // Into j at most once, out as often as in; k = 0 when r does not visit j.
                var visits = model.NewBoolVar($"v{r}_{j}");
                model.Add(LinearExpr.Sum(network) == visits);
                var outgoing = new List<BoolVar> { leave[j] };
                for (var next = 0; next < n; next++)
                {
                    if (next != j)
                    {
                        outgoing.Add(hop[j + 1, next]);
                    }
                }

                model.Add(LinearExpr.Sum(outgoing) == visits);
                model.Add(blocksAt[r, j] == 0).OnlyEnforceIf(visits.Not());
                var blockSeconds = instance.PrefillSecondsPerBlock(j, instance.PromptTokens) + (steps * instance.DecodeSecondsPerBlock(j));
                objective.AddTerm(blocksAt[r, j], Units(blockSeconds));
            }

            model.Add(LinearExpr.Sum(Enumerable.Range(0, n).Select(j => hop[0, j])) == 1);
            model.Add(LinearExpr.Sum(leave) == 1);

            // Redundant but tightening: a session runs every block exactly once, never more than a server hosts.
            model.Add(LinearExpr.Sum(Enumerable.Range(0, n).Select(j => blocksAt[r, j])) == layers);
            for (var j = 0; j < n; j++)
            {
                model.Add(blocksAt[r, j] <= count[j]);
            }

            firstHop[r] = LinearExpr.WeightedSum(Enumerable.Range(0, n).Select(j => hop[0, j]), Enumerable.Range(0, n).Select(j => (long)j));
            exitHop[r] = LinearExpr.WeightedSum(leave, Enumerable.Range(0, n).Select(j => (long)j));
        }

        // Sessions of one client are interchangeable: order them by their first server, then their last.
        for (var r = 0; r + 1 < sessionClients.Count; r++)
        {
            if (sessionClients[r] == sessionClients[r + 1])
            {
                model.Add((firstHop[r] * (n + 1)) + exitHop[r] <= (firstHop[r + 1] * (n + 1)) + exitHop[r + 1]);
            }
        }

        var blockKb = (long)Math.Ceiling(instance.Costs.BlockBytes / 1e3);
        var cacheKb = (long)Math.Ceiling(instance.SessionCacheBytesPerBlock / 1e3);
        for (var j = 0; j < n; j++)
        {
            var memory = LinearExpr.NewBuilder().AddTerm(count[j], blockKb);
            for (var r = 0; r < sessionClients.Count; r++)
            {
                memory.AddTerm(blocksAt[r, j], cacheKb);
            }

            model.Add(memory <= (long)Math.Floor(instance.Servers[j].Costs.MemoryBytes / 1e3));
        }

        Hint(model, instance, sessionClients, first, count, end, hops, leaves, blocksAt);
        model.Minimize(objective);
        var (solver, status) = Run(model, instance, sessionClients.Count, timeLimitSeconds, seed, workers);
        var firsts = new int[n];
        var counts = new int[n];
        for (var j = 0; j < n; j++)
        {
            counts[j] = (int)solver.Value(count[j]);
            firsts[j] = counts[j] > 0 ? (int)solver.Value(first[j]) : 0;
        }

        return Result(instance, solver, status, firsts, counts, sessionClients.Count);
    }

    /// <summary>
    /// The hub-and-spoke model over blocks: <c>h_jb</c> server j hosts block b (one contiguous run), <c>y^r_jb</c> session r
    /// runs block b at j, <c>z^r_jb</c> it enters j at b. Every block runs once per session on a host; a session leaves a
    /// server only at the end of its range; entering j costs <c>t_in_cj + (l_max - 1) t_cj</c>, each block
    /// <c>tau_in_j + (l_max - 1) tau_j</c>. The same optimum as the hop model (hub-and-spoke hop costs depend only on the
    /// server entered) with a far tighter linear relaxation.
    /// </summary>
    private static PlacementResult SolveBlockFormulation(SwarmInstance instance, IReadOnlyList<int> sessionClients, double timeLimitSeconds, int seed, int workers)
    {
        var n = instance.Servers.Count;
        var layers = instance.LayerCount;
        var steps = instance.OutputTokens - 1;
        var sessions = sessionClients.Count;
        var model = new CpModel();
        var hosts = new BoolVar[n, layers];
        for (var j = 0; j < n; j++)
        {
            var starts = new List<BoolVar>();
            for (var b = 0; b < layers; b++)
            {
                hosts[j, b] = model.NewBoolVar($"h{j}_{b}");
                var start = model.NewBoolVar($"s{j}_{b}");
                starts.Add(start);
                model.Add(b == 0 ? hosts[j, b] <= start : hosts[j, b] - hosts[j, b - 1] <= start);
            }

            model.Add(LinearExpr.Sum(starts) <= 1);
            model.Add(LinearExpr.Sum(Enumerable.Range(0, layers).Select(b => hosts[j, b])) <= instance.MaxBlocks(j));
        }

        var objective = LinearExpr.NewBuilder();
        var runs = new BoolVar[sessions, n, layers];
        var enters = new BoolVar[sessions, n, layers];
        for (var r = 0; r < sessions; r++)
        {
            var client = sessionClients[r];
            for (var j = 0; j < n; j++)
            {
                var enterUnits = Units(instance.EnterPromptSeconds(client, -1, j, instance.PromptTokens) + (steps * instance.EnterSecondsPerToken(client, -1, j)));
                var blockUnits = Units(instance.PrefillSecondsPerBlock(j, instance.PromptTokens) + (steps * instance.DecodeSecondsPerBlock(j)));
                var entries = new BoolVar[layers];
                for (var b = 0; b < layers; b++)
                {
                    var y = runs[r, j, b] = model.NewBoolVar($"y{r}_{j}_{b}");
                    model.AddImplication(y, hosts[j, b]);
                    var enter = entries[b] = enters[r, j, b] = model.NewBoolVar($"z{r}_{j}_{b}");
                    model.Add(b == 0 ? y <= enter : y - runs[r, j, b - 1] <= enter);
                    objective.AddTerm(y, blockUnits).AddTerm(enter, enterUnits);
                    if (b > 0)
                    {
                        // Leaving j after block b-1 is allowed only where j's range ends.
                        model.Add(runs[r, j, b - 1] - y <= 1 - hosts[j, b]);
                    }
                }

                // Valid cuts that keep the relaxation from splitting a session fractionally over servers:
                // a session enters a server at most once, and runs at most the server's block count there.
                model.Add(LinearExpr.Sum(entries) <= 1);
                model.Add(LinearExpr.Sum(Enumerable.Range(0, layers).Select(b => runs[r, j, b])) <= LinearExpr.Sum(entries) * instance.MaxBlocks(j));
            }

            for (var b = 0; b < layers; b++)
            {
                model.AddExactlyOne(Enumerable.Range(0, n).Select(j => runs[r, j, b]));
            }
        }

        // Sessions of one client are interchangeable: order them by the server running their first block.
        for (var r = 0; r + 1 < sessions; r++)
        {
            if (sessionClients[r] == sessionClients[r + 1])
            {
                model.Add(LinearExpr.WeightedSum(Enumerable.Range(0, n).Select(j => runs[r, j, 0]), Enumerable.Range(0, n).Select(j => (long)j))
                    <= LinearExpr.WeightedSum(Enumerable.Range(0, n).Select(j => runs[r + 1, j, 0]), Enumerable.Range(0, n).Select(j => (long)j)));
            }
        }

        var blockKb = (long)Math.Ceiling(instance.Costs.BlockBytes / 1e3);
        var cacheKb = (long)Math.Ceiling(instance.SessionCacheBytesPerBlock / 1e3);
        for (var j = 0; j < n; j++)
        {
            var memory = LinearExpr.NewBuilder();
            for (var b = 0; b < layers; b++)
            {
                memory.AddTerm(hosts[j, b], blockKb);
                for (var r = 0; r < sessions; r++)
                {
                    memory.AddTerm(runs[r, j, b], cacheKb);
                }
            }

            model.Add(memory <= (long)Math.Floor(instance.Servers[j].Costs.MemoryBytes / 1e3));
        }

        HintBlocks(model, instance, sessionClients, hosts, runs, enters);
        model.Minimize(objective);
        var (solver, status) = Run(model, instance, sessions, timeLimitSeconds, seed, workers);
        var firsts = new int[n];
        var counts = new int[n];
        for (var j = 0; j < n; j++)
        {
            var hosted = Enumerable.Range(0, layers).Where(b => solver.BooleanValue(hosts[j, b])).ToArray();
            counts[j] = hosted.Length;
            firsts[j] = hosted.Length > 0 ? hosted[0] : 0;
        }

        return Result(instance, solver, status, firsts, counts, sessions);
    }

    private static (CpSolver Solver, CpSolverStatus Status) Run(CpModel model, SwarmInstance instance, int sessions, double timeLimitSeconds, int seed, int workers)
    {
        var solver = new CpSolver
        {
            StringParameters = string.Create(CultureInfo.InvariantCulture, $"max_time_in_seconds:{timeLimitSeconds} num_workers:{workers} random_seed:{seed}"),
        };
        var status = solver.Solve(model);
        if (status == CpSolverStatus.Infeasible)
        {
            throw new StrataException($"The exact placement (MILP) is infeasible: {instance.Servers.Count} servers cannot hold all {instance.LayerCount} blocks plus cache for {sessions} concurrent sessions; add servers or plan for fewer sessions.");
        }

        if (status is not (CpSolverStatus.Optimal or CpSolverStatus.Feasible))
        {
            throw new StrataException($"The exact placement (MILP) found no solution within its time limit of {timeLimitSeconds.ToString("G4", CultureInfo.InvariantCulture)} s ({status}); raise --milp-time-limit or plan fewer servers/sessions.");
        }

        return (solver, status);
    }

    private static PlacementResult Result(SwarmInstance instance, CpSolver solver, CpSolverStatus status, int[] firsts, int[] counts, int sessions)
    {
        var value = solver.ObjectiveValue;
        var bound = solver.BestObjectiveBound;
        var gap = status == CpSolverStatus.Optimal ? 0 : Math.Max(0, (value - bound) / Math.Max(1e-9, Math.Abs(value)));
        var note = status == CpSolverStatus.Optimal ? null : string.Create(CultureInfo.InvariantCulture, $"time limit hit; proven gap {gap:P1}");
        return new PlacementResult(new SwarmPlacement(firsts, counts).Validate(instance), sessions, null, value / UnitsPerSecond, gap, note);
    }

    private static void HintBlocks(CpModel model, SwarmInstance instance, IReadOnlyList<int> sessionClients, BoolVar[,] hosts, BoolVar[,,] runs, BoolVar[,,] entries)
    {
        SwarmPlacement placement;
        try
        {
            placement = ConservativeGreedyPlacement.PlaceFor(instance, sessionClients.Count).Placement;
        }
        catch (StrataException)
        {
            return;
        }

        var routes = sessionClients.Select(c => new ShortestPathRouting().Route(instance, placement, c, IdleSwarmLoad.Instance, 0)).ToArray();
        if (routes.Any(r => r is null))
        {
            return;
        }

        for (var j = 0; j < instance.Servers.Count; j++)
        {
            for (var b = 0; b < instance.LayerCount; b++)
            {
                model.AddHint(hosts[j, b], placement.Blocks(j).Contains(b));
                for (var r = 0; r < routes.Length; r++)
                {
                    model.AddHint(runs[r, j, b], routes[r]!.Hops.Any(h => h.Server == j && h.Blocks.Contains(b)));
                    model.AddHint(entries[r, j, b], routes[r]!.Hops.Any(h => h.Server == j && b == h.Blocks.First));
                }
            }
        }
    }

    /// <summary>Starts the search from CG-BP's placement (R = the sessions) and each session's shortest path on it, when that is feasible.</summary>
    private static void Hint(CpModel model, SwarmInstance instance, IReadOnlyList<int> sessionClients, IntVar[] first, IntVar[] count, IntVar[] end, BoolVar[][,] hops, BoolVar[][] leaves, IntVar[,] blocksAt)
    {
        SwarmPlacement placement;
        try
        {
            placement = ConservativeGreedyPlacement.PlaceFor(instance, sessionClients.Count).Placement;
        }
        catch (StrataException)
        {
            return;
        }

        var n = instance.Servers.Count;
        var routes = sessionClients.Select(c => new ShortestPathRouting().Route(instance, placement, c, IdleSwarmLoad.Instance, 0)).ToArray();
        if (routes.Any(r => r is null))
        {
            return;
        }

        for (var j = 0; j < n; j++)
        {
            var blocks = placement.Blocks(j);
            model.AddHint(first[j], blocks.Count > 0 ? blocks.First : 0);
            model.AddHint(count[j], blocks.Count);
            model.AddHint(end[j], blocks.Count > 0 ? blocks.End : 0);
        }

        for (var r = 0; r < routes.Length; r++)
        {
            var path = routes[r]!.Hops;
            var used = new HashSet<(int, int)>();
            var previous = -1;
            foreach (var hop in path)
            {
                used.Add((previous, hop.Server));
                previous = hop.Server;
            }

            for (var j = 0; j < n; j++)
            {
                model.AddHint(leaves[r][j], j == previous);
                model.AddHint(blocksAt[r, j], path.Where(h => h.Server == j).Sum(h => h.Blocks.Count));
                for (var i = -1; i < n; i++)
                {
                    if (i != j)
                    {
                        model.AddHint(hops[r][i + 1, j], used.Contains((i, j)));
                    }
                }
            }
        }
    }

    private static long Units(double seconds) => (long)Math.Round(seconds * UnitsPerSecond);
}
