using System.Collections.Concurrent;
using Strata.Runtime.Engine;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Tests;

/// <summary>Random models written to a temporary folder once per (preset, seed) and loaded through the real loader.</summary>
internal static class TestModels
{
    private static readonly ConcurrentDictionary<(string, ulong), Lazy<(string Directory, LlamaModel Model)>> Cache = new();

    // One folder per test process, removed when the process exits.
    private static readonly string Root = CreateRoot();

    public static LlamaModel Tiny(ulong seed = 1) => Get(ModelPreset.Tiny, seed).Model;

    public static string TinyDirectory(ulong seed = 1) => Get(ModelPreset.Tiny, seed).Directory;

    /// <summary>The tiny model's blocks alone, as a block server holds them (no embedding, no head), loaded anew.</summary>
    public static LlamaModel TinyBlocks()
    {
        var directory = TinyDirectory();
        var config = ModelFolder.LoadConfig(directory);
        return new LlamaModel(config, LlamaWeightsLoader.Load(directory, config, 0, config.LayerCount, includeEmbeddingAndHead: false));
    }

    public static string NewDirectory()
    {
        var path = Path.Combine(Root, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    private static string CreateRoot()
    {
        var root = Path.Combine(Path.GetTempPath(), $"strata-runtime-tests-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: the temp folder is cleaned by the system eventually.
            }
        };
        return root;
    }

    private static (string Directory, LlamaModel Model) Get(ModelPreset preset, ulong seed) =>
        Cache.GetOrAdd((preset.Name, seed), key => new Lazy<(string, LlamaModel)>(() =>
        {
            var directory = NewDirectory();
            RandomModelWriter.Write(directory, preset.ToConfig(), seed);
            return (directory, ModelFolder.LoadModel(directory));
        })).Value;
}
