using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics.X86;
using Strata.Benchmarks.Runtime.LlamaCpp;
using Strata.Runtime.Engine;
using Strata.Runtime.Kernels;
using Strata.Runtime.Sampling;
using Strata.Runtime.Weights;
using Strata.Runtime.Weights.Gguf;

namespace Strata.Benchmarks.Runtime;

/// <summary>
/// Issue 15's decode targets in alternating rounds: the small preset's batch-1 greedy decode in F32, Q8_0 and Q4_0
/// (the same GGUF files as <see cref="LlamaCppComparisonBenchmarks"/>) and the machine's read bandwidth, one after the
/// other in every round, so a machine whose load drifts slows all alike and each round's ratios stay fair:
/// <c>DOTNET_PROCESSOR_COUNT=1 dotnet run -c Release --project bench/Strata.Benchmarks -- quant-decode [rounds] [tokens]</c>.
/// </summary>
internal static class QuantDecodeRounds
{
    private static readonly GgmlType[] Types = [GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_0];

    public static void Run(int rounds, int tokens, TextWriter output)
    {
        var config = ModelPreset.Small.ToConfig();
        var directory = Path.Combine(Path.GetTempPath(), $"strata-bench-quant-{Environment.ProcessId}");
        var tensors = RandomModelWriter.Generate(config, 1).ToDictionary(t => t.Name, t => t.Data);
        var models = new Dictionary<GgmlType, (LlamaModel Model, InferenceSession Session, long Bytes)>();
        try
        {
            foreach (var type in Types)
            {
                var folder = Path.Combine(directory, type.ToString());
                Directory.CreateDirectory(folder);
                var path = Path.Combine(folder, GgufModelWriter.FileName);
                GgufModelWriter.Write(config, name => tensors[name], path, type);
                long bytes;
                using (var reader = GgufReader.Open(path))
                {
                    bytes = reader.TensorList.Sum(t => t.SizeBytes);
                }

                var model = ModelFolder.LoadModel(folder);
                models[type] = (model, model.CreateSession(), bytes);
            }

            var bandwidth = new MemoryReadBenchmarks();
            bandwidth.Setup();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"small preset, batch-1 greedy decode of {tokens} tokens from an empty cache, {Environment.ProcessorCount} thread(s), Q8_0/Q4_0 kernel {KernelIsas.QuantizedDefault} (AVX-512 {Avx512F.IsSupported}, AVX-VNNI {AvxVnni.IsSupported}), TieredCompilation={Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") ?? "default"}"));
            output.WriteLine("round  read GB/s  " + string.Join("  ", Types.Select(t => $"{t} tok/s (of limit)")) + "  Q8_0/F32  Q4_0/F32");
            var rates = Types.ToDictionary(t => t, _ => new List<double>());
            var fractions = Types.ToDictionary(t => t, _ => new List<double>());
            var reads = new List<double>();
            for (var round = -2; round < rounds; round++) // two warm-up rounds: the code tiers up
            {
                var start = Stopwatch.GetTimestamp();
                bandwidth.ReadBandwidth();
                var read = MemoryReadBenchmarks.ReadFloats * (double)sizeof(float) / Stopwatch.GetElapsedTime(start).TotalSeconds;
                var line = new List<string>();
                foreach (var type in Types)
                {
                    var (model, session, bytes) = models[type];
                    var rate = Decode(model, session, tokens);
                    var fraction = rate / (read / bytes);
                    if (round >= 0)
                    {
                        rates[type].Add(rate);
                        fractions[type].Add(fraction);
                    }

                    line.Add(string.Create(CultureInfo.InvariantCulture, $"{rate,8:F1} ({fraction,4:P0})"));
                }

                if (round >= 0)
                {
                    reads.Add(read);
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{round,5}  {read / 1e9,9:F1}  {string.Join("  ", line)}  {rates[GgmlType.Q8_0][^1] / rates[GgmlType.F32][^1],8:F2}  {rates[GgmlType.Q4_0][^1] / rates[GgmlType.F32][^1],8:F2}"));
                }
            }

            var medians = Types.Select(t => string.Create(CultureInfo.InvariantCulture,
                $"{t} {Median(rates[t]):F1} tok/s, {models[t].Bytes / 1e6:F1} MB per token, {Median(fractions[t]):P0} of its bandwidth limit"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"medians: read {Median(reads) / 1e9:F1} GB/s; {string.Join("; ", medians)}"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"median ratios: Q8_0/F32 {Median(rates[GgmlType.Q8_0].Zip(rates[GgmlType.F32], (q, f) => q / f).ToList()):F2}, Q4_0/F32 {Median(rates[GgmlType.Q4_0].Zip(rates[GgmlType.F32], (q, f) => q / f).ToList()):F2}"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static double Decode(LlamaModel model, InferenceSession session, int tokens)
    {
        session.Truncate(0);
        var token = 1;
        Span<int> one = stackalloc int[1];
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < tokens; i++)
        {
            one[0] = token;
            var hidden = model.Embed(one);
            model.ForwardBlocks(session, 0, model.Config.LayerCount, hidden, 1);
            token = TokenSampler.ArgMax(model.ComputeLastLogits(hidden, 1));
        }

        return tokens / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
