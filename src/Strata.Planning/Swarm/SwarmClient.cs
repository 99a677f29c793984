namespace Strata.Planning.Swarm;

/// <summary>One client of a swarm: it holds the embeddings and LM head and sends requests.</summary>
/// <param name="Name">Display name (<c>c0</c>, ...).</param>
/// <param name="Node">Index of its network node.</param>
public sealed record SwarmClient(string Name, int Node);
