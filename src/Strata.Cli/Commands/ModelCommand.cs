using System.CommandLine;
using System.Globalization;
using Strata.Cli.Output;
using Strata.Runtime.Weights;
using Strata.Runtime.Weights.Gguf;

namespace Strata.Cli.Commands;

/// <summary><c>strata model</c>: model folders for the runtime; <c>init</c> writes a deterministic random one.</summary>
internal static class ModelCommand
{
    public static Command Create(CliContext context)
    {
        var preset = new Option<string>("--preset") { Description = $"Model shape: {string.Join(", ", ModelPreset.All.Select(p => p.Name))} (tiny: tests, small: about 100 M parameters, llama-7b: Llama-2-7B's shapes, 6.7 B parameters; write it with --gguf q4_0 or q4_k).", DefaultValueFactory = _ => "tiny", HelpName = "name" };
        preset.AcceptOnlyFromAmong([.. ModelPreset.All.Select(p => p.Name)]);
        var seed = new Option<ulong>("--seed") { Description = "Seed of the weights; the same seed writes the same bytes.", DefaultValueFactory = _ => 0, HelpName = "n" };
        var output = new Option<string>("--out") { Description = "Folder to write config.json and model.safetensors into.", Required = true, HelpName = "dir" };
        var dtype = new Option<string>("--dtype") { Description = $"Element type of the weights in the file: {TensorDtypes.AcceptedNames}.", DefaultValueFactory = _ => "f32", HelpName = "type" };
        var gguf = new Option<string?>("--gguf") { Description = $"Write model.gguf with weights of this type ({string.Join(", ", GgufModelWriter.WeightTypes.Select(t => t.ToString().ToLowerInvariant()))}) instead of safetensors, one tensor at a time (fp32 weights are never all in memory).", HelpName = "type" };
        var force = new Option<bool>("--force") { Description = "Overwrite a model already in the folder." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a sentence." };
        var init = new Command("init", "Write a Llama-architecture model with deterministic random weights (config.json + model.safetensors, Hugging Face names; or one GGUF file with --gguf).")
        {
            preset, seed, output, dtype, gguf, force, json,
        };
        init.SetAction(parseResult =>
        {
            var shape = ModelPreset.ByName(parseResult.GetValue(preset)!);
            var directory = parseResult.GetValue(output)!;
            var config = shape.ToConfig();
            if (parseResult.GetValue(gguf) is { } ggufType)
            {
                var type = GgufModelWriter.ParseType(ggufType, "--gguf");
                var path = RandomModelWriter.WriteGguf(directory, config, parseResult.GetValue(seed), type, parseResult.GetValue(force));
                return Written(context, path, type, 0, parseResult.GetValue(json));
            }

            var dtypeValue = TensorDtypes.Parse(parseResult.GetValue(dtype)!, "--dtype");
            RandomModelWriter.Write(directory, config, parseResult.GetValue(seed), dtypeValue, parseResult.GetValue(force));
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
                    dtype = TensorDtypes.HeaderName(dtypeValue),
                    weightsBytes = bytes,
                    layers = config.LayerCount,
                    hiddenSize = config.HiddenSize,
                    vocabularySize = config.VocabularySize,
                });
                return 0;
            }

            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Wrote the {shape.Name} preset ({parameters / 1e6:F1} M parameters, {config.LayerCount} blocks, {TensorDtypes.HeaderName(dtypeValue)}, {Units.Bytes(bytes)}) to {directory}."));
            return 0;
        });
        return new Command("model", "Model folders for the runtime.") { init, Convert(context), Quantize(context) };
    }

    private static Command Convert(CliContext context)
    {
        var input = new Option<string>("--in") { Description = "Model folder to read (config.json + *.safetensors).", Required = true, HelpName = "dir" };
        var output = new Option<string>("--out") { Description = "Folder to write model.gguf into (tokenizer files are copied).", Required = true, HelpName = "dir" };
        var to = new Option<string>("--to") { Description = "File format to write: gguf.", DefaultValueFactory = _ => "gguf", HelpName = "format" };
        to.AcceptOnlyFromAmong("gguf");
        var type = new Option<string>("--type") { Description = "Weight type of the projections, embedding and head: f32, f16, q8_0, q4_0, q4_k (norms stay f32).", DefaultValueFactory = _ => "f32", HelpName = "type" };
        var force = new Option<bool>("--force") { Description = "Overwrite a model already in the output folder." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a sentence." };
        var command = new Command("convert", "Write a model folder as one llama.cpp-compatible GGUF file (llama architecture; q/k rows in llama.cpp's order).")
        {
            input, output, to, type, force, json,
        };
        command.SetAction(parseResult => Write(context, parseResult.GetValue(input)!, parseResult.GetValue(output)!,
            GgufModelWriter.ParseType(parseResult.GetValue(type)!, "--type"), parseResult.GetValue(force), parseResult.GetValue(json)));
        return command;
    }

    private static Command Quantize(CliContext context)
    {
        var input = new Option<string>("--in") { Description = "Model folder to read (config.json + *.safetensors).", Required = true, HelpName = "dir" };
        var output = new Option<string>("--out") { Description = "Folder to write the quantized model.gguf into.", Required = true, HelpName = "dir" };
        var format = new Option<string>("--format") { Description = "Block format: q8_0 (8.5 bits per weight), q4_0 (4.5 bits per weight) or q4_k (4.5 bits per weight, super-blocks of 256 with 6-bit sub-block scales and mins), ggml's layouts.", Required = true, HelpName = "format" };
        format.AcceptOnlyFromAmong("q8_0", "q4_0", "q4_k");
        var force = new Option<bool>("--force") { Description = "Overwrite a model already in the output folder." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a sentence." };
        var command = new Command("quantize", "Quantize a model's projections, embedding and head to ggml blocks in a GGUF file; the runtime keeps them quantized in memory.")
        {
            input, output, format, force, json,
        };
        command.SetAction(parseResult => Write(context, parseResult.GetValue(input)!, parseResult.GetValue(output)!,
            GgufModelWriter.ParseType(parseResult.GetValue(format)!, "--format"), parseResult.GetValue(force), parseResult.GetValue(json)));
        return command;
    }

    private static int Write(CliContext context, string input, string output, GgmlType type, bool force, bool json)
    {
        var path = GgufModelWriter.WriteFolder(input, output, type, force);
        return Written(context, path, type, Directory.GetFiles(input, "*.safetensors").Sum(f => new FileInfo(f).Length), json);
    }

    private static int Written(CliContext context, string path, GgmlType type, long sourceBytes, bool json)
    {
        var bytes = new FileInfo(path).Length;
        if (json)
        {
            Json.Write(context.Output, new { file = Path.GetFullPath(path), type = type.ToString().ToLowerInvariant(), bytes, sourceBytes });
            return 0;
        }

        context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Wrote {path} ({type.ToString().ToLowerInvariant()}, {Units.Bytes(bytes)}{(sourceBytes > 0 ? $"; the source holds {Units.Bytes(sourceBytes)}" : "")})."));
        return 0;
    }
}
