namespace Strata.Core.Tests.Scenarios;

/// <summary>Where the scenario test inputs are: the example scenarios of the repository and the files beside these tests.</summary>
internal static class ScenarioTestFiles
{
    /// <summary>The folder the test YAML files are copied to.</summary>
    public static string FilesDirectory => Path.Combine(AppContext.BaseDirectory, "Scenarios", "Files");

    /// <summary>The repository's <c>scenarios/</c> folder, found by walking up to <c>Strata.slnx</c>.</summary>
    public static string ExamplesDirectory
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (System.IO.File.Exists(Path.Combine(directory.FullName, "Strata.slnx")))
                {
                    return Path.Combine(directory.FullName, "scenarios");
                }
            }

            throw new InvalidOperationException($"No Strata.slnx above {AppContext.BaseDirectory}; cannot find the example scenarios.");
        }
    }

    /// <summary>A test file's path.</summary>
    public static string File(string name) => Path.Combine(FilesDirectory, name);

    /// <summary>A new empty folder under the system temp folder.</summary>
    public static string NewTempDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "strata-scenario-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
