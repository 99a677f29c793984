using Strata.Performance.Batching;

namespace Strata.Performance.Tests.Batching;

/// <summary>The decode batcher's rule on explicit clocks: whom a step waits for, and how long at most.</summary>
public sealed class DecodeBatchRuleTests
{
    private const double Window = 2e-3, Cap = 20e-3, Step = 10e-3, Bound = Step / 2;
    private const int Blocks = 12;

    // Runs a step of the sessions from start to start + Step; returns its end.
    private static double Ran(DecodeBatchRule<string> rule, double start, params string[] sessions)
    {
        rule.StepRan(sessions, 0, Blocks, start, start + Step, queuedMeanwhile: false);
        return start + Step;
    }

    // A first step of the sessions, from 0; returns when each one's last step ended.
    private static Dictionary<string, double> Start(DecodeBatchRule<string> rule, params string[] sessions)
    {
        var end = Ran(rule, 0, sessions);
        return sessions.ToDictionary(s => s, _ => end);
    }

    // One token of every session: each comes back its delay after its own last step ended; steps run in turn, each opening
    // at its first token (not before the last step ended), taking arrivals until every session it expects is in or its
    // deadline passes (the whole window when it expects none). Returns the first step's deadline and expected sessions.
    private static (double Deadline, string[] Expected) Cycle(DecodeBatchRule<string> rule, Dictionary<string, double> ends, params (string Session, double Delay)[] returns)
    {
        var pending = returns.Select(r => (r.Session, At: ends[r.Session] + r.Delay)).OrderBy(r => r.At).ToList();
        var free = ends.Values.Max();
        (double, string[])? first = null;
        while (pending.Count > 0)
        {
            var t0 = Math.Max(free, pending[0].At);
            var taken = pending.Where(r => r.At <= t0).ToList();
            foreach (var (session, at) in taken)
            {
                rule.Arrived(session, at);
            }

            var deadline = rule.Open(0, Blocks, t0);
            var expected = rule.Expected.Order().ToArray();
            var start = deadline;
            foreach (var arrival in pending.Where(r => r.At > t0 && r.At <= deadline))
            {
                if (expected.Length > 0 && rule.AllArrived)
                {
                    break;
                }

                rule.Arrived(arrival.Session, arrival.At);
                taken.Add(arrival);
                if (expected.Length > 0 && rule.AllArrived)
                {
                    start = arrival.At;
                }
            }

            rule.Close();
            first ??= (deadline, expected);
            free = Ran(rule, start, [.. taken.Select(r => r.Session)]);
            foreach (var (session, _) in taken)
            {
                ends[session] = free;
            }

            pending.RemoveAll(taken.Contains);
        }

        return first ?? throw new InvalidOperationException("No session came back.");
    }

    [Fact]
    public void A_step_waits_for_the_sessions_of_the_last_step_and_fills_when_they_are_back_within_the_bound()
    {
        (string, double)[] returns = [("a", 1e-3), ("b", 2e-3), ("c", 3.5e-3), ("d", 4.5e-3)]; // spread 3.5 ms, over the window

        // The window alone (return wait off) never gathers the four: each token, the late two miss the step.
        var windowOnly = new DecodeBatchRule<string>(Window, 0);
        var windowEnds = Start(windowOnly, "a", "b", "c", "d");
        for (var token = 0; token < 10; token++)
        {
            Cycle(windowOnly, windowEnds, returns);
            Assert.NotEqual(1, windowEnds.Values.Distinct().Count());
        }

        // The rule learns each session's return delay (the first tokens split, a mistaken wait dropping a and b once) and
        // then runs the four in one step.
        var rule = new DecodeBatchRule<string>(Window, Cap);
        var ends = Start(rule, "a", "b", "c", "d");
        var tokens = 0;
        do
        {
            Cycle(rule, ends, returns);
            Assert.True(++tokens < 5, "The steps did not fill within 4 tokens.");
        }
        while (ends.Values.Distinct().Count() > 1);

        Cycle(rule, ends, returns); // full again (b, untracked since its drop, is learnt anew)
        Assert.Single(ends.Values.Distinct());
        for (var token = 0; token < 5; token++)
        {
            var end = ends["a"];
            var (deadline, expected) = Cycle(rule, ends, returns);

            // The first back (a) waits for b, c and d, predicted 1, 2.5 and 3.5 ms later: at most the bound, half a step.
            Assert.Equal(["b", "c", "d"], expected);
            Assert.Equal(end + 1e-3 + Bound, deadline, 12);
            Assert.All(ends.Values, e => Assert.Equal(end + 4.5e-3 + Step, e, 12)); // ran full at d's arrival, before the deadline
        }
    }

    [Fact]
    public void A_missing_session_costs_the_others_at_most_the_bound_once_and_is_then_not_waited_for()
    {
        // A window longer than the bound: the bound binds (tight), however long the window.
        var rule = new DecodeBatchRule<string>(1.0, Cap);
        var ends = Start(rule, "a", "b");
        Cycle(rule, ends, ("a", 1e-3), ("b", 1e-3));
        Cycle(rule, ends, ("a", 1e-3), ("b", 1e-3));

        var t0 = ends["a"] + 1e-3;
        rule.Arrived("a", t0);
        Assert.Equal(t0 + Bound, rule.Open(0, Blocks, t0), 12); // b is expected; it never comes
        Assert.Equal(["b"], rule.Expected);
        Assert.False(rule.AllArrived);
        rule.Close();
        var end = Ran(rule, t0 + Bound, "a");
        Assert.Equal(1, rule.TrackedSessions); // b dropped

        rule.Arrived("a", end + 1e-3);
        Assert.Equal(end + 1e-3, rule.Open(0, Blocks, end + 1e-3), 12); // a alone, nobody known out: no wait
        Assert.Empty(rule.Expected);
        rule.Close();
        end = Ran(rule, end + 1e-3, "a");

        // Now a pauses and b comes back: a, overdue by more than the bound, is not waited for (its last step ran alone:
        // no window either), nor dropped.
        rule.Arrived("b", end + 50e-3);
        Assert.Equal(end + 50e-3, rule.Open(0, Blocks, end + 50e-3), 12);
        Assert.Empty(rule.Expected);
        rule.Close();
        Assert.Equal(1, rule.TrackedSessions); // a; b untracked until its token runs
    }

    [Fact]
    public void A_lone_session_waits_only_for_its_first_step()
    {
        var rule = new DecodeBatchRule<string>(Window, Cap);
        Assert.Equal(Window, rule.Open(0, Blocks, 0), 12); // nothing known yet: the window, as before
        rule.Close();
        var end = Ran(rule, Window, "a");
        for (var token = 0; token < 20; token++)
        {
            var back = end + (token % 3 * 1e-3);
            rule.Arrived("a", back);
            Assert.Equal(back, rule.Open(0, Blocks, back), 12);
            Assert.Empty(rule.Expected);
            rule.Close();
            end = Ran(rule, back, "a");
        }
    }

    [Fact]
    public void A_closed_session_is_forgotten_and_a_step_waiting_for_it_stops_waiting()
    {
        var rule = new DecodeBatchRule<string>(Window, Cap);
        var ends = Start(rule, "a", "b", "c");
        Cycle(rule, ends, ("a", 1e-3), ("b", 1e-3), ("c", 1e-3));
        Cycle(rule, ends, ("a", 1e-3), ("b", 1e-3), ("c", 1e-3));

        rule.Forget("c");
        rule.Arrived("a", ends["a"] + 1e-3);
        rule.Open(0, Blocks, ends["a"] + 1e-3);
        Assert.Equal(["b"], rule.Expected); // c is not waited for
        rule.Forget("b"); // closes while the step waits for it
        Assert.True(rule.AllArrived);
        Assert.Empty(rule.Expected);
        rule.Close();
        Assert.Equal(1, rule.TrackedSessions);
    }

    [Fact]
    public void Groups_pipelined_over_two_servers_are_not_waited_for_when_the_other_comes_back_a_step_later()
    {
        // Two groups alternate: while one runs here the other runs on the next server; each comes back 1 ms after the other
        // group's step here ends. Waiting for the other group would idle this server and the next.
        var rule = new DecodeBatchRule<string>(Window, Cap);
        string[] g1 = ["a", "b"], g2 = ["c", "d"];
        var now = 0.0;
        for (var cycle = 0; cycle < 6; cycle++)
        {
            foreach (var group in new[] { g1, g2 })
            {
                foreach (var session in group)
                {
                    rule.Arrived(session, now);
                }

                var deadline = rule.Open(0, Blocks, now);
                if (cycle >= 2) // once each group's return delay is known
                {
                    Assert.Empty(rule.Expected); // the other group is predicted 11 ms away: beyond the 5 ms bound
                    Assert.Equal(now, deadline, 12); // every known session is here or far: no window either
                }

                rule.Close();
                now = Ran(rule, now, group) + 1e-3;
            }
        }
    }

    [Fact]
    public void Sessions_on_a_long_route_fill_the_step_waiting_from_the_first_arrival_not_from_when_they_left()
    {
        // An emulated 40 ms round trip: the sessions come back together, 40 to 41.5 ms after their step.
        var rule = new DecodeBatchRule<string>(Window, Cap);
        (string, double)[] returns = [("a", 40e-3), ("b", 40.5e-3), ("c", 41e-3), ("d", 41.5e-3)];
        var ends = Start(rule, "a", "b", "c", "d");
        Cycle(rule, ends, returns);
        for (var token = 0; token < 5; token++)
        {
            var end = ends["a"];
            var (deadline, expected) = Cycle(rule, ends, returns);
            Assert.Equal(["b", "c", "d"], expected);
            Assert.InRange(deadline - (end + 40e-3), 0, Bound + 1e-12); // waits from a's arrival, within the bound
            Assert.All(ends.Values, e => Assert.Equal(end + 41.5e-3 + Step, e, 12)); // full: ran at d's arrival
        }
    }

    [Fact]
    public void With_the_return_wait_off_the_rule_is_the_batch_window_skipped_for_a_lone_session()
    {
        var rule = new DecodeBatchRule<string>(Window, 0);
        var ends = Start(rule, "a", "b");
        Cycle(rule, ends, ("a", 1e-3), ("b", 1e-3));
        var t0 = ends["a"] + 1e-3;
        rule.Arrived("a", t0);
        Assert.Equal(t0 + Window, rule.Open(0, Blocks, t0), 12); // contended: the window, though b is known and due
        Assert.Empty(rule.Expected);
        rule.Close();
        var end = Ran(rule, t0 + Window, "a");
        rule.Arrived("a", end + 1e-3);
        Assert.Equal(end + 1e-3, rule.Open(0, Blocks, end + 1e-3), 12); // ran alone, nothing queued: no window
    }

    [Theory]
    [InlineData(Cap, Bound)] // half the 10 ms step b last ran in, though the last step (x alone) took 2 ms
    [InlineData(3e-3, 3e-3)] // never more than the cap
    public void The_bound_is_half_the_longer_of_the_last_step_and_the_step_the_expected_sessions_last_ran_in(double cap, double bound)
    {
        var rule = new DecodeBatchRule<string>(Window, cap);
        var ends = Start(rule, "a", "b");
        Cycle(rule, ends, ("a", 1e-3), ("b", 1e-3));
        var end = ends["a"];
        rule.StepRan(["x"], 0, Blocks, end, end + 2e-3, queuedMeanwhile: false);
        var t0 = end + 2.5e-3;
        rule.Arrived("a", t0);
        Assert.Equal(t0 + bound, rule.Open(0, Blocks, t0), 12); // b, predicted at end + 1 ms, is waited for
        Assert.Equal(["b"], rule.Expected);
    }

    [Fact]
    public void Sessions_of_another_block_range_are_not_waited_for()
    {
        var rule = new DecodeBatchRule<string>(Window, Cap);
        rule.StepRan(["a", "b"], 0, Blocks, 0, Step, false);
        rule.Arrived("a", Step + 1e-3);
        rule.Arrived("b", Step + 1e-3);
        rule.StepRan(["a", "b"], 0, Blocks, Step + 1e-3, (2 * Step) + 1e-3, false);
        rule.StepRan(["x"], Blocks, 4, (2 * Step) + 1e-3, (3 * Step) + 1e-3, false);
        rule.Arrived("x", (3 * Step) + 2e-3);
        rule.Open(Blocks, 4, (3 * Step) + 2e-3);
        Assert.Empty(rule.Expected);
    }
}
