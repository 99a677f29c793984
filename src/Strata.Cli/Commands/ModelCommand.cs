using System.CommandLine;
using System.Globalization;
using Strata.Cli.Output;
using Strata.Runtime.Weights;

namespace Strata.Cli.Commands;

/// <summary><c>strata model</c>: model folders for the runtime; <c>init</c> writes a deterministic random one.</summary>
internal static class ModelCommand
{
    public static Command Create(CliContext context)
    {
        var preset = new Option<string>("--preset") { Description = $"Model shape: {string.Join(", ", ModelPreset.All.Select(p => p.Name))} (tiny: tests, small: about 100 M parameters).", DefaultValueFactory = _ => "tiny", HelpName = "name" };
        preset.AcceptOnlyFromAmong([.. ModelPreset.All.Select(p => p.Name)]);
        var seed = new Option<ulong>("--seed") { Description = "Seed of the weights; the same seed writes the same bytes.", DefaultValueFactory = _ => 0, HelpName = "n" };
        var output = new Option<string>("--out") { Description = "Folder to write config.json and model.safetensors into.", Required = true, HelpName = "dir" };
        var dtype = new Option<string>("--dtype") { Description = $"Element type of the weights in the file: {TensorDtypes.AcceptedNames}.", DefaultValueFactory = _ => "f32", HelpName = "type" };
        var force = new Option<bool>("--force") { Description = "Overwrite a model already in the folder." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a sentence." };
        var init = new Command("init", "Write a Llama-architecture model with deterministic random weights (config.json + model.safetensors, Hugging Face names).")
        {
            preset, seed, output, dtype, force, json,
        };
        init.SetAction(parseResult =>
        {
            var shape = ModelPreset.ByName(parseResult.GetValue(preset)!);
            var directory = parseResult.GetValue(output)!;
            var config = shape.ToConfig();
            var type = TensorDtypes.Parse(parseResult.GetValue(dtype)!, "--dtype");
            RandomModelWriter.Write(directory, config, parseResult.GetValue(seed), type, parseResult.GetValue(force));
            var parameters = config.Architecture.TotalParameters;
            var bytes = new FileInfo(Path.Combine(directory, "model.safetensors")).Length;
            if (parseResult.GetValue(json))
            {
                Json.Write(context.Output, new
                {
                    preset = shape.Name,
                    seed = parseResult.GetValue(seed),
                    directory = Path.GetFullPath(directory),
                    parameters,
                    dtype = TensorDtypes.HeaderName(type),
                    weightsBytes = bytes,
                    layers = config.LayerCount,
                    hiddenSize = config.HiddenSize,
                    vocabularySize = config.VocabularySize,
                });
                return 0;
            }

            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Wrote the {shape.Name} preset ({parameters / 1e6:F1} M parameters, {config.LayerCount} blocks, {TensorDtypes.HeaderName(type)}, {Units.Bytes(bytes)}) to {directory}."));
            return 0;
        });
        return new Command("model", "Model folders for the runtime.") { init };
    }
}
