using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Protocol;
using Strata.Runtime.Serving;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Tests.Coordination;

/// <summary>An in-process coordinator and block servers of the tiny model on loopback, stopped on dispose.</summary>
internal sealed class TestSwarm : IAsyncDisposable
{
    private readonly List<(BlockServerHost Host, BlockServerAgent Agent)> _servers = [];
    private readonly HashSet<BlockServerHost> _stopped = [];

    private TestSwarm(CoordinatorHost coordinator)
    {
        Coordinator = coordinator;
        Client = new CoordinatorClient(coordinator.Address);
    }

    public CoordinatorHost Coordinator { get; }

    public CoordinatorClient Client { get; }

    public static async Task<TestSwarm> StartAsync(CoordinatorOptions? options = null, TimeProvider? coordinatorTime = null) =>
        new(await CoordinatorHost.StartAsync(options: options, timeProvider: coordinatorTime));

    public static LlamaModel Load(int firstBlock, int blockCount, bool head)
    {
        var directory = TestModels.TinyDirectory();
        var config = ModelFolder.LoadConfig(directory);
        return new LlamaModel(config, LlamaWeightsLoader.Load(directory, config, firstBlock, blockCount, head));
    }

    public async Task<BlockServerHost> AddServerAsync(string id, int firstBlock, int blockCount, ServerRole role = ServerRole.Both, BlockServerLimits? limits = null, string? joinToken = null)
    {
        var model = Load(firstBlock, blockCount, head: false);
        var host = await BlockServerHost.StartAsync(model, limits: limits);
        try
        {
            var agent = await BlockServerAgent.StartAsync(host, Client, model.Config.Architecture.Name, model.Config.LayerCount,
                new BlockServerAgentOptions { ServerId = id, Role = role, JoinToken = joinToken });
            _servers.Add((host, agent));
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops <paramref name="host"/> and its agent with the swarm.</summary>
    public void Track(BlockServerHost host, BlockServerAgent agent) => _servers.Add((host, agent));

    /// <summary>Stops a server the hard way: no deregistration, its port closes (the coordinator still lists it until its heartbeats time out).</summary>
    public async Task KillAsync(BlockServerHost host)
    {
        if (_stopped.Add(host))
        {
            await host.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (host, agent) in _servers)
        {
            await agent.DisposeAsync();
            await KillAsync(host);
        }

        Client.Dispose();
        await Coordinator.DisposeAsync();
    }
}
