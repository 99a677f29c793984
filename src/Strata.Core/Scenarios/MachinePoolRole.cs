namespace Strata.Core.Scenarios;

/// <summary>Which inference phases a machine pool serves (Splitwise's pools).</summary>
public enum MachinePoolRole
{
    /// <summary>Runs prefill and decode on the same machine, no phase split (the baseline); the default.</summary>
    Both,
    /// <summary>Runs prefill only (Splitwise's prompt pool); the KV cache moves to a token machine.</summary>
    Prompt,
    /// <summary>Runs decode only (Splitwise's token pool).</summary>
    Token,
    /// <summary>Splitwise's mixed pool: machines lent to either phase as load demands.</summary>
    Mixed,
}
