namespace Strata.Cli.Tests;

/// <summary>A uniquely named file in the temp folder with given contents, deleted on dispose.</summary>
internal sealed class TempFile : IDisposable
{
    public TempFile(string contents, string extension)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"strata-cli-test-{Guid.NewGuid():N}{extension}");
        File.WriteAllText(Path, contents);
    }

    /// <summary>Full path of the file.</summary>
    public string Path { get; }

    /// <summary>A path in the temp folder that no file has.</summary>
    public static string MissingPath(string extension) =>
        System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"strata-cli-test-missing-{Guid.NewGuid():N}{extension}");

    public void Dispose() => File.Delete(Path);
}
