using System.Globalization;
using BenchmarkDotNet.Running;
using Strata.Benchmarks.Runtime;

// Runs the benchmarks chosen by the arguments, e.g. `--filter '*' --job short`; see docs/benchmarks.md.
// `batched-decode [rounds] [steps] [F32|Q8_0|Q4_0]` times the batched-decode cases in alternating rounds instead (a loaded machine).
if (args is ["batched-decode", ..])
{
    var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
    var steps = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 8;
    var weights = args.Length > 3 ? Enum.Parse<Strata.Runtime.Weights.Gguf.GgmlType>(args[3], ignoreCase: true) : Strata.Runtime.Weights.Gguf.GgmlType.F32;
    await BatchedDecodeRounds.RunAsync(rounds, steps, weights, Console.Out);
    return;
}

// `quant-decode [rounds] [tokens]` times batch-1 decode in F32, Q8_0 and Q4_0 and the read bandwidth in alternating rounds.
if (args is ["quant-decode", ..])
{
    var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
    var tokens = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 64;
    QuantDecodeRounds.Run(rounds, tokens, Console.Out);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
