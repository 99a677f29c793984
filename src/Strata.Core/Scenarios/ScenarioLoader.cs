using Strata.Core.Catalogs;

namespace Strata.Core.Scenarios;

/// <summary>Reads and validates scenario files (the YAML format of <c>docs/scenarios.md</c>).</summary>
/// <remarks>
/// Every error a user can make is a <see cref="StrataException"/> whose message is one sentence naming the file,
/// the line, the field path (<c>machines[1].count</c>), the value and what was expected. Thread-safe.
/// </remarks>
public static class ScenarioLoader
{
    /// <summary>Reads a scenario file and resolves it against <paramref name="catalog"/>.</summary>
    /// <param name="path">The scenario file; relative paths inside it are relative to its folder.</param>
    /// <param name="catalog">Models, devices and machines the file may name (usually <see cref="Catalog.BuiltIn"/>).</param>
    /// <exception cref="StrataException">The file is missing, is not valid YAML, or is not a valid scenario.</exception>
    public static Scenario Load(string path, Catalog catalog)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(catalog);
        if (!File.Exists(path))
        {
            throw new StrataException($"Scenario file '{path}' does not exist.");
        }

        return Parse(File.ReadAllText(path), path, catalog);
    }

    /// <summary>Parses scenario YAML text as if it were the file at <paramref name="path"/>.</summary>
    /// <param name="yamlText">The YAML text.</param>
    /// <param name="path">Where the text comes from: named in messages, and the base of relative paths (need not exist).</param>
    /// <param name="catalog">Models, devices and machines the text may name.</param>
    /// <exception cref="StrataException">The text is not valid YAML or not a valid scenario.</exception>
    public static Scenario Parse(string yamlText, string path, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(yamlText);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(catalog);
        return new ScenarioReader(path, catalog).Read(yamlText);
    }
}
