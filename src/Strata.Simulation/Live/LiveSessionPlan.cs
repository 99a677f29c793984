namespace Strata.Simulation.Live;

/// <summary>One generation to predict: its route (blocks and round trip per hop) and its lengths.</summary>
/// <param name="Hops">Per hop, the blocks run there and the client's round trip to the server, seconds.</param>
/// <param name="PromptTokens">Prompt tokens.</param>
/// <param name="OutputTokens">Tokens generated, the first included.</param>
/// <param name="Servers">Per hop, the server it runs on (sessions on one server share its decode batches); null: hop <c>i</c> of every session runs on one server.</param>
/// <param name="VerifyFraction">Fraction of steps the client runs again on a replica of the hop's blocks (spot checks; 0: none).</param>
/// <param name="ReplicaRttSeconds">Per hop, the client's round trip to the replica a spot check would use (null or NaN: none, the check is skipped); null: no hop has one.</param>
public sealed record LiveSessionPlan(IReadOnlyList<(int BlockCount, double RttSeconds)> Hops, int PromptTokens, int OutputTokens, IReadOnlyList<string>? Servers = null,
    double VerifyFraction = 0, IReadOnlyList<double>? ReplicaRttSeconds = null);
