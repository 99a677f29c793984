using System.Globalization;
using Google.OrTools.Sat;
using Strata.Core;
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

    /// <summary>Creates the policy: at most <paramref name="timeLimitSeconds"/> of solving; <paramref name="sessions"/> concurrent sessions (null: from the load, as CG-BP's R).</summary>
    public MilpPlacement(double timeLimitSeconds = 60, int? sessions = null, int seed = 0)
    {
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
        return Solve(instance, clients, _timeLimitSeconds, _seed);
    }

    /// <summary>Solves for one session per entry of <paramref name="sessionClients"/> (each a client index).</summary>
    /// <exception cref="StrataException">The model is infeasible, or the time limit passed before any solution.</exception>
    public static PlacementResult Solve(SwarmInstance instance, IReadOnlyList<int> sessionClients, double timeLimitSeconds, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(sessionClients);
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
        for (var r = 0; r < sessionClients.Count; r++)
        {
            var client = sessionClients[r];
            // hop[i + 1, j]: from i (-1: the client) into server j; leave[j]: from j back to the client.
            var hop = new BoolVar[n + 1, n];
            var leave = new BoolVar[n];
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

        model.Minimize(objective);
        var solver = new CpSolver
        {
            StringParameters = string.Create(CultureInfo.InvariantCulture, $"max_time_in_seconds:{timeLimitSeconds} num_workers:1 random_seed:{seed}"),
        };
        var status = solver.Solve(model);
        if (status == CpSolverStatus.Infeasible)
        {
            throw new StrataException($"The exact placement (MILP) is infeasible: {n} servers cannot hold all {layers} blocks plus cache for {sessionClients.Count} concurrent sessions; add servers or plan for fewer sessions.");
        }

        if (status is not (CpSolverStatus.Optimal or CpSolverStatus.Feasible))
        {
            throw new StrataException($"The exact placement (MILP) found no solution within its time limit of {timeLimitSeconds.ToString("G4", CultureInfo.InvariantCulture)} s ({status}); raise --milp-time-limit or plan fewer servers/sessions.");
        }

        var firsts = new int[n];
        var counts = new int[n];
        for (var j = 0; j < n; j++)
        {
            counts[j] = (int)solver.Value(count[j]);
            firsts[j] = counts[j] > 0 ? (int)solver.Value(first[j]) : 0;
        }

        var value = solver.ObjectiveValue;
        var bound = solver.BestObjectiveBound;
        var gap = status == CpSolverStatus.Optimal ? 0 : Math.Max(0, (value - bound) / Math.Max(1e-9, Math.Abs(value)));
        var note = status == CpSolverStatus.Optimal ? null : string.Create(CultureInfo.InvariantCulture, $"time limit hit; proven gap {gap:P1}");
        return new PlacementResult(new SwarmPlacement(firsts, counts).Validate(instance), sessionClients.Count, null, value / UnitsPerSecond, gap, note);
    }

    private static long Units(double seconds) => (long)Math.Round(seconds * UnitsPerSecond);
}
