namespace Strata.Planning.Pools;

/// <summary>What a cluster scheduler may read about the machines: the one interface both the simulator and the runtime implement.</summary>
/// <remarks>Machines are numbered 0..<see cref="MachineCount"/>-1; every member is O(1).</remarks>
public interface IClusterView
{
    /// <summary>Number of machines.</summary>
    int MachineCount { get; }

    /// <summary>The machine's home role.</summary>
    MachineRole Role(int machine);

    /// <summary>Prompt tokens queued on the machine and not yet prefilled.</summary>
    long PendingPromptTokens(int machine);

    /// <summary>Output tokens still to generate by the requests the machine decodes (queued, transferring or running).</summary>
    long PendingDecodeTokens(int machine);

    /// <summary>Share of the machine's KV-cache memory in use or reserved, in [0, 1].</summary>
    double KvUtilization(int machine);
}
