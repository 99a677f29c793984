using System.Collections.Concurrent;
using Strata.Runtime.Engine;

namespace Strata.Runtime.Tests.Engine;

/// <summary>
/// How long the decode batcher's steps wait, on a fake clock that moves only when the test says: each step "takes"
/// 10 ms of it, so a step waits for the sessions of recent steps at most 5 ms (half a step) and the window is 1 s, long
/// enough that a test would hang if it were waited out unasked.
/// </summary>
public sealed class DecodeBatcherWaitTests
{
    private static readonly TimeSpan StepTime = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    private static readonly DecodeBatchOptions Options = new() { MaxBatch = 8, BatchWait = Window, MaxReturnWait = TimeSpan.FromSeconds(1) };

    private sealed class Fixture : IAsyncDisposable
    {
        public Fixture()
        {
            Model = TestModels.Tiny();
            Batcher = new DecodeBatcher(Model, Options, Clock, rows =>
            {
                Steps.Enqueue(rows);
                Clock.Advance(StepTime); // the step's run time, on the batcher's clock
            });
        }

        public LlamaModel Model { get; }

        public FakeTimeProvider Clock { get; } = new();

        public ConcurrentQueue<int> Steps { get; } = new();

        public DecodeBatcher Batcher { get; }

        public InferenceSession Session()
        {
            var session = Model.CreateSession();
            Model.ForwardBlocks(session, 0, Model.Config.LayerCount, Model.Embed([1]), 1);
            return session;
        }

        public Task Token(InferenceSession session) => Batcher.ForwardAsync(session, 0, Model.Config.LayerCount, Model.Embed([2]));

        // Two steps of both sessions, the window waited out each time: the batcher then knows how long each takes to come back.
        public async Task LearnAsync(InferenceSession a, InferenceSession b)
        {
            for (var round = 0; round < 2; round++)
            {
                var first = Token(a);
                Assert.Equal(Window, await Clock.NextTimerAsync()); // nothing to predict from yet: the window
                var second = Token(b);

                // Past the window; again while the worker waits on a window (it may re-arm one when b comes, just as the
                // clock moves), never while the step runs (that would lengthen the step on the clock).
                var both = Task.WhenAll(first, second);
                Clock.Advance(Window);
                for (var polls = 0; !both.IsCompleted; polls++)
                {
                    Assert.True(polls < 3000, "The step of a and b did not run.");
                    await Task.WhenAny(both, Task.Delay(10));
                    if (!both.IsCompleted && Clock.ArmedTimers > 0)
                    {
                        Clock.Advance(Window);
                    }
                }

                await both;
                Clock.SkipTimers();
            }

            Assert.Equal([2, 2], Steps.ToArray());
        }

        public ValueTask DisposeAsync() => Batcher.DisposeAsync();
    }

    [Fact]
    public async Task A_lone_session_waits_only_for_its_first_step()
    {
        await using var f = new Fixture();
        var session = f.Session();
        var first = f.Token(session);
        Assert.Equal(Window, await f.Clock.NextTimerAsync());
        f.Clock.Advance(Window);
        await first.WaitAsync(TimeSpan.FromSeconds(30));

        var timers = f.Clock.TimersCreated;
        for (var token = 0; token < 10; token++)
        {
            await f.Token(session).WaitAsync(TimeSpan.FromSeconds(30)); // the clock does not move: no wait
        }

        Assert.Equal(timers, f.Clock.TimersCreated);
        Assert.Equal(Enumerable.Repeat(1, 11), f.Steps);
    }

    [Fact]
    public async Task A_step_waits_for_the_sessions_of_the_last_step_and_runs_full_once_they_are_back()
    {
        await using var f = new Fixture();
        InferenceSession a = f.Session(), b = f.Session();
        await f.LearnAsync(a, b);

        for (var token = 0; token < 3; token++)
        {
            var first = f.Token(a);
            Assert.Equal(StepTime / 2, await f.Clock.NextTimerAsync()); // waits for b: half the last step at most
            var second = f.Token(b);
            await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(30)); // b came: ran at once, the clock unmoved
        }

        Assert.Equal([2, 2, 2, 2, 2], f.Steps.ToArray());
    }

    [Fact]
    public async Task A_session_that_does_not_come_back_costs_the_others_the_bound_once()
    {
        await using var f = new Fixture();
        InferenceSession a = f.Session(), b = f.Session();
        await f.LearnAsync(a, b);

        var alone = f.Token(a);
        Assert.Equal(StepTime / 2, await f.Clock.NextTimerAsync());
        f.Clock.Advance(StepTime / 2);
        await alone.WaitAsync(TimeSpan.FromSeconds(30));

        var timers = f.Clock.TimersCreated;
        await f.Token(a).WaitAsync(TimeSpan.FromSeconds(30)); // b dropped: a runs at once
        Assert.Equal(timers, f.Clock.TimersCreated);
        Assert.Equal([2, 2, 1, 1], f.Steps.ToArray());
    }

    [Fact]
    public async Task A_closed_session_is_forgotten()
    {
        await using var f = new Fixture();
        InferenceSession a = f.Session(), b = f.Session();
        await f.LearnAsync(a, b);

        f.Batcher.Forget(b);
        var timers = f.Clock.TimersCreated;
        await f.Token(a).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(timers, f.Clock.TimersCreated);
        Assert.Equal([2, 2, 1], f.Steps.ToArray());
    }
}
