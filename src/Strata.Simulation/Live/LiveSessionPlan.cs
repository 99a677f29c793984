namespace Strata.Simulation.Live;

/// <summary>One generation to predict: its route (blocks and round trip per hop) and its lengths.</summary>
/// <param name="Hops">Per hop, the blocks run there and the client's round trip to the server, seconds.</param>
/// <param name="PromptTokens">Prompt tokens.</param>
/// <param name="OutputTokens">Tokens generated, the first included.</param>
/// <param name="Servers">Per hop, the server it runs on (sessions on one server share its decode batches); null: hop <c>i</c> of every session runs on one server.</param>
public sealed record LiveSessionPlan(IReadOnlyList<(int BlockCount, double RttSeconds)> Hops, int PromptTokens, int OutputTokens, IReadOnlyList<string>? Servers = null);
