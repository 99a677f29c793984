using Strata.Core.Models;

namespace Strata.Core.Scenarios;

/// <summary>A model a scenario uses: its id in the file and its resolved architecture.</summary>
/// <param name="Id">The entry's <c>id</c>, unique in the file.</param>
/// <param name="Architecture">The architecture, from the catalog, the inline <c>config</c> or the <c>configPath</c> file.</param>
/// <param name="Origin">Where the architecture came from.</param>
public sealed record ScenarioModel(string Id, ModelArchitecture Architecture, ScenarioModelOrigin Origin);
