using System.Globalization;
using BenchmarkDotNet.Running;
using Strata.Benchmarks.Runtime;

// Runs the benchmarks chosen by the arguments, e.g. `--filter '*' --job short`; see docs/benchmarks.md.
// `batched-decode [rounds] [steps]` times the batched-decode cases in alternating rounds instead (a loaded machine).
if (args is ["batched-decode", ..])
{
    var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
    var steps = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 8;
    await BatchedDecodeRounds.RunAsync(rounds, steps, Console.Out);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
