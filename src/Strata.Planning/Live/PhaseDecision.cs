namespace Strata.Planning.Live;

/// <summary>Where a phase-split generation runs, as Splitwise decides it (see <see cref="LivePhasePlanner"/>).</summary>
public enum PhaseDecision
{
    /// <summary>Prefill on the prompt pool's chain, decode on the token pool's chain: the KV cache moves between them.</summary>
    Split,

    /// <summary>The token pool is full (or empty): the prompt pool's chain prefills and decodes the request itself, nothing moves.</summary>
    PromptDecodes,

    /// <summary>The prompt pool is queued up (or empty): a token pool chain is borrowed into the mixed pool and runs the whole request, nothing moves.</summary>
    Mixed,
}
