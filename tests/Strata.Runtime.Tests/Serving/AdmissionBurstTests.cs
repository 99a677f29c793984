using Grpc.Core;
using Strata.Runtime.Engine;
using Strata.Runtime.Serving;
using Strata.Runtime.Tests.Coordination;

namespace Strata.Runtime.Tests.Serving;

[Trait("Category", "Integration")]
public sealed class AdmissionBurstTests
{
    [Fact]
    public async Task A_burst_of_first_steps_never_passes_the_session_limit_and_refused_steps_leave_no_session()
    {
        await using var server = await BlockServerHost.StartAsync(TestSwarm.Load(0, 4, head: false), limits: new BlockServerLimits { MaxSessions = 4 });
        using var client = new BlockServerClient(server.Address);
        var hidden = TestModels.Tiny().Embed([1, 2, 3]);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(async () =>
        {
            try
            {
                await client.ForwardAsync($"s{i}", 0, 4, 0, (float[])hidden.Clone(), 3, 64);
                return StatusCode.OK;
            }
            catch (RpcException exception)
            {
                return exception.StatusCode;
            }
        })));
        Assert.Equal(4, outcomes.Count(o => o == StatusCode.OK));
        Assert.All(outcomes, o => Assert.True(o is StatusCode.OK or StatusCode.ResourceExhausted, o.ToString()));
        Assert.Equal(4, server.SessionCount);
    }

    [Fact]
    public async Task A_burst_of_steps_never_holds_more_kv_than_the_budget_and_refused_first_steps_leave_no_session()
    {
        var model = TestModels.Tiny();
        var stepBytes = 4 * BlockKvCache.BytesFor(8, model.Config.KeyValueDimension); // four blocks, eight tokens
        var budget = 5 * stepBytes + (stepBytes / 2);
        await using var server = await BlockServerHost.StartAsync(TestSwarm.Load(0, 4, head: false), limits: new BlockServerLimits { MaxKvBytes = budget });
        using var client = new BlockServerClient(server.Address);
        var hidden = model.Embed([1, 2, 3, 4, 5, 6, 7, 8]);
        var peak = 0L;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, server.KvBytes);
                await Task.Yield();
            }
        });
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => Task.Run(async () =>
        {
            try
            {
                await client.ForwardAsync($"k{i}", 0, 4, 0, (float[])hidden.Clone(), 8, 64, expectedTokens: 8); // arrays of exactly eight tokens
                return StatusCode.OK;
            }
            catch (RpcException exception)
            {
                return exception.StatusCode;
            }
        })));
        await stop.CancelAsync();
        await sampler;
        Assert.Equal(5, outcomes.Count(o => o == StatusCode.OK));
        Assert.Equal(5, server.SessionCount);
        Assert.Equal(5 * stepBytes, server.KvBytes);
        Assert.True(peak <= budget, $"peak {peak} > budget {budget}");
    }
}
