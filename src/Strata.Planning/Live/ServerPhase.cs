namespace Strata.Planning.Live;

/// <summary>Which phases of a generation a live server serves: its pool in a phase-split swarm.</summary>
public enum ServerPhase
{
    /// <summary>Prefill and decode (a whole-generation server).</summary>
    Both,

    /// <summary>Prefill only (the prompt pool).</summary>
    Prefill,

    /// <summary>Decode only (the token pool).</summary>
    Decode,
}
