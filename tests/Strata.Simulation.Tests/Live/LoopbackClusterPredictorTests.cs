using Strata.Performance.Profiles;
using Strata.Simulation.Live;

namespace Strata.Simulation.Tests.Live;

public sealed class LoopbackClusterPredictorTests
{
    private static RuntimeProfile Profile(double slowdownAtTwo) => new()
    {
        Model = "m",
        LayerCount = 4,
        Machine = "test",
        Repetitions = 3,
        WarmupIterations = 0,
        PrefillSecondsPerBlock = [new(1, 2e-3)],
        DecodeSecondsPerBlock = [new(1, 1e-3)],
        HeadPrefillSeconds = 3e-3,
        HeadDecodeSeconds = 2e-3,
        HopOverheadSeconds = 5e-4,
        ConcurrencySlowdown = [new(1, 1), new(2, slowdownAtTwo)],
    };

    [Fact]
    public void One_session_takes_the_sum_of_its_phases()
    {
        var plan = new LiveSessionPlan([(2, 0.02), (2, 0.05)], 1, 3);
        var p = LoopbackClusterPredictor.Predict(Profile(2), [plan]).Single();
        // Closed form: routing 2 h; prefill per hop h + 2 x 2 ms plus its RTT; head 3 ms.
        const double h = 5e-4;
        var ttft = (2 * h) + (h + 4e-3 + 0.02) + (h + 4e-3 + 0.05) + 3e-3;
        var step = (h + 2e-3 + 0.02) + (h + 2e-3 + 0.05) + 2e-3;
        var close = h + 0.05;
        Assert.Equal(ttft, p.TtftSeconds, 12);
        Assert.Equal(ttft + (2 * step) + close, p.E2eSeconds, 12);
        Assert.Equal(((2 * step) + close) / 2, p.TpotSeconds, 12);
    }

    [Fact]
    public void Concurrent_sessions_share_the_cores_only_while_they_compute()
    {
        var computeOnly = new LiveSessionPlan([(4, 0)], 1, 2);
        var alone = LoopbackClusterPredictor.Predict(Profile(2), [computeOnly]).Single();
        var pair = LoopbackClusterPredictor.Predict(Profile(2), [computeOnly, computeOnly]);
        Assert.All(pair, p => Assert.Equal(2 * alone.E2eSeconds, p.E2eSeconds, 12)); // processor sharing, slowdown 2
        var free = LoopbackClusterPredictor.Predict(Profile(1), [computeOnly, computeOnly]);
        Assert.All(free, p => Assert.Equal(alone.E2eSeconds, p.E2eSeconds, 12)); // no slowdown: as alone

        // Long waits dominate: the shared compute slows the pair by far less than 2x.
        var waiting = new LiveSessionPlan([(4, 0.5)], 1, 2);
        var waitingAlone = LoopbackClusterPredictor.Predict(Profile(2), [waiting]).Single().E2eSeconds;
        Assert.InRange(LoopbackClusterPredictor.Predict(Profile(2), [waiting, waiting])[0].E2eSeconds, waitingAlone, waitingAlone * 1.1);
    }
}
