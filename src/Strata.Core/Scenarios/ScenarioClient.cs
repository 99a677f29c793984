using Strata.Core.Hardware;

namespace Strata.Core.Scenarios;

/// <summary>A population of clients with the same device and network link.</summary>
/// <param name="Id">The population's <c>id</c>, unique among clients.</param>
/// <param name="Device">The resolved client device (<c>device</c>).</param>
/// <param name="Share">Fraction of requests this population sends (<c>share</c>), in (0, 1]; all shares sum to 1.</param>
/// <param name="Link">The link between these clients and the servers (<c>link</c>, by id).</param>
public sealed record ScenarioClient(string Id, DeviceSpec Device, double Share, ScenarioLink Link);
