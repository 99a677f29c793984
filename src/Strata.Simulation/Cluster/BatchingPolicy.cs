namespace Strata.Simulation.Cluster;

/// <summary>How a machine forms each iteration's batch from its running decodes and queued prompts (formulas in docs/simulator.md).</summary>
public enum BatchingPolicy
{
    /// <summary>Every running decode, then whole prompts first-come first-served while the step stays within the token budget (the first prompt always fits). Strata's default.</summary>
    Mixed,

    /// <summary>vLLM's default: a step of whole prompts (first-come first-served, within the token budget, the first always fits) whenever one is queued and fits memory; otherwise a step of every running decode.</summary>
    PrefillFirst,

    /// <summary>Sarathi-Serve and vLLM chunked prefill: every running decode, then prompt chunks first-come first-served filling what is left of the token budget.</summary>
    Chunked,

    /// <summary>SplitwiseSim's Splitwise instance: whole prompts first within the token budget (the first always fits), then decodes, one token each, while the budget lasts; decodes that do not fit sit the step out and keep their memory.</summary>
    SplitwiseMls,
}
