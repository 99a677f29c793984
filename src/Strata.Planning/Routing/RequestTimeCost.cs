using Strata.Planning.Swarm;

namespace Strata.Planning.Routing;

/// <summary>Hop costs in seconds of a whole request (prefill + decode steps), optionally plus the wait for cache slots.</summary>
internal readonly struct RequestTimeCost : IHopCost
{
    private readonly SwarmInstance _instance;
    private readonly int _client;
    private readonly ISwarmLoad _load;
    private readonly double _nowSeconds;
    private readonly bool _withWait;

    public RequestTimeCost(SwarmInstance instance, int client, ISwarmLoad load, double nowSeconds, bool withWait)
    {
        _instance = instance;
        _client = client;
        _load = load;
        _nowSeconds = nowSeconds;
        _withWait = withWait;
    }

    public bool IgnoresPrevious => _instance.Forwarding == ForwardingMode.HubAndSpoke;

    public double Enter(int previous, int server, int blockCount)
    {
        if (!_load.IsAlive(server))
        {
            return double.PositiveInfinity;
        }

        var seconds = _instance.HopRequestSeconds(_client, previous, server, blockCount);
        if (_withWait)
        {
            seconds += Math.Max(0, _load.SlotsFreeAtSeconds(server, blockCount, _nowSeconds) - _nowSeconds);
        }

        return seconds;
    }

    public double Exit(int last) => _instance.ExitRequestSeconds(_client, last);
}
