using BenchmarkDotNet.Running;

// Runs the benchmarks chosen by the arguments, e.g. `--filter '*' --job short`; see docs/benchmarks.md.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
