namespace Strata.Planning.Pools;

/// <summary>Where a request runs: the machine that prefills it and the one that decodes it (the same one unless phases split).</summary>
/// <param name="PrefillMachine">Machine index for the prompt phase.</param>
/// <param name="DecodeMachine">Machine index for the token phase.</param>
public readonly record struct RouteDecision(int PrefillMachine, int DecodeMachine)
{
    /// <summary>Whether the KV cache must move between machines.</summary>
    public bool Transfers => PrefillMachine != DecodeMachine;
}
