using Strata.Planning.Pools;

namespace Strata.Planning.Live;

/// <summary>Live routes as the machines of a cluster scheduler's <see cref="IClusterView"/>: one machine per chain, its load that of its most loaded server.</summary>
/// <remarks>
/// A chain is a pipeline: its prompt queue drains no faster than its most queued hop, and a session fits it only when
/// every hop has room for its cache, so each load is the maximum over the chain's servers (the bottleneck), not a sum or
/// a mean, which would let one idle hop hide a full one. Every member is O(1) after construction.
/// </remarks>
public sealed class LiveChainView : IClusterView
{
    private readonly MachineRole[] _roles;
    private readonly long[] _promptTokens;
    private readonly long[] _decodeTokens;
    private readonly double[] _kvUtilization;

    /// <summary>Creates the view of <paramref name="chains"/>, in order, each with its home role; a session needs <paramref name="kvBytesPerBlock"/> of cache per block.</summary>
    public LiveChainView(IReadOnlyList<(LiveRoute Route, MachineRole Role)> chains, long kvBytesPerBlock)
    {
        ArgumentNullException.ThrowIfNull(chains);
        ArgumentOutOfRangeException.ThrowIfNegative(kvBytesPerBlock);
        _roles = new MachineRole[chains.Count];
        _promptTokens = new long[chains.Count];
        _decodeTokens = new long[chains.Count];
        _kvUtilization = new double[chains.Count];
        for (var m = 0; m < chains.Count; m++)
        {
            var (route, role) = chains[m];
            ArgumentNullException.ThrowIfNull(route);
            _roles[m] = role;
            foreach (var hop in route.Hops)
            {
                _promptTokens[m] = Math.Max(_promptTokens[m], hop.Server.PendingPromptTokens);
                _decodeTokens[m] = Math.Max(_decodeTokens[m], hop.Server.PendingDecodeTokens);
                _kvUtilization[m] = Math.Max(_kvUtilization[m], hop.Server.KvUtilization(kvBytesPerBlock));
            }
        }
    }

    /// <inheritdoc />
    public int MachineCount => _roles.Length;

    /// <inheritdoc />
    public MachineRole Role(int machine) => _roles[machine];

    /// <inheritdoc />
    public long PendingPromptTokens(int machine) => _promptTokens[machine];

    /// <inheritdoc />
    public long PendingDecodeTokens(int machine) => _decodeTokens[machine];

    /// <inheritdoc />
    public double KvUtilization(int machine) => _kvUtilization[machine];
}
