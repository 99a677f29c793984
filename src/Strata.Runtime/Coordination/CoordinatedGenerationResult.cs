using Strata.Core.Placement;
using Strata.Runtime.Engine;

namespace Strata.Runtime.Coordination;

/// <summary>A generation run through the swarm, with its text and what the route went through.</summary>
/// <param name="Generation">Token ids, timings and the final route.</param>
/// <param name="Text">The generated tokens as text.</param>
/// <param name="TokenizerName">Which tokenizer was used.</param>
/// <param name="Failovers">Re-routes after dead or full servers.</param>
/// <param name="ClientBlocks">Blocks the client ran itself (the split path), in order.</param>
/// <param name="KvMoves">Phase split: KV-cache moves from prefill to decode servers (one per block and decode hop when streamed layer by layer).</param>
/// <param name="PhasePlans">Phase split: the coordinator's decisions for this generation, how many block ranges each (empty without a phase split).</param>
public sealed record CoordinatedGenerationResult(
    GenerationResult Generation, string Text, string TokenizerName, int Failovers, IReadOnlyList<BlockRange> ClientBlocks, int KvMoves,
    IReadOnlyDictionary<Planning.Live.PhaseDecision, int> PhasePlans);
