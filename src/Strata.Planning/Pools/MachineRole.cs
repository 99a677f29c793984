namespace Strata.Planning.Pools;

/// <summary>What a machine of a cluster is for.</summary>
public enum MachineRole
{
    /// <summary>Both phases, mixed continuous batching (a baseline machine, or Splitwise's mixed pool).</summary>
    Mixed,
    /// <summary>Prefill (prompt) machine of a phase-split cluster.</summary>
    Prompt,
    /// <summary>Decode (token) machine of a phase-split cluster.</summary>
    Token,
}
