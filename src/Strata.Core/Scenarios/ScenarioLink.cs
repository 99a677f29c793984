using Strata.Core.Network;

namespace Strata.Core.Scenarios;

/// <summary>A named network link a scenario's clients use.</summary>
/// <param name="Id">The link's <c>id</c>, unique among links; clients refer to it.</param>
/// <param name="Spec">Latency and bandwidth, already converted to one-way seconds and bytes per second.</param>
public sealed record ScenarioLink(string Id, LinkSpec Spec);
