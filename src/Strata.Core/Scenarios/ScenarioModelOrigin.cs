namespace Strata.Core.Scenarios;

/// <summary>Where a scenario model's architecture was read from.</summary>
public enum ScenarioModelOrigin
{
    /// <summary>The catalog, by id.</summary>
    Catalog,
    /// <summary>Hugging Face <c>config.json</c> fields written inline under <c>config</c>.</summary>
    InlineConfig,
    /// <summary>A Hugging Face <c>config.json</c> file named by <c>configPath</c>.</summary>
    ConfigFile,
}
