#!/usr/bin/env bash
# Runs issue 15's speed comparison in one BenchmarkDotNet run: Strata against llama.cpp (LLamaSharp) on the same
# GGUF file of the small preset in F32, Q8_0 and Q4_0 (prefill 256 tokens, decode 128 tokens at batch 1), at one
# thread and at all threads, with the machine's read bandwidth in the same run and jobs. Short jobs: 3 warm-up and
# 5 measured iterations (see ThreadJobsConfig). Extra arguments go to BenchmarkDotNet, e.g. a narrower filter:
#   bench/scripts/llamacpp-speed.sh --filter '*StrataDecode*' '*ReadBandwidth*'
# Results: BenchmarkDotNet.Artifacts/results/*-report-github.md; see docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -eq 0 ]; then
  set -- --filter '*LlamaCpp.LlamaCppComparisonBenchmarks*' '*LlamaCpp.MemoryReadBenchmarks*'
fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet run -c Release --project bench/Strata.Benchmarks -- --join "$@"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
