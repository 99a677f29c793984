#!/usr/bin/env bash
# Issue 15's 7B-class run: writes Llama-2-7B's shapes with random weights straight into a 4-bit GGUF file (one
# tensor at a time), then runs `strata generate --local` on it and reports load time, peak resident memory, and
# prefill and decode tokens/s (after the CLI's untimed warm-up token; the CLI runs with tiered compilation off).
# Usage: bench/scripts/llama-7b-4bit.sh [format] [decode tokens] [dir] [strata binary]
#   format: q4_0 (default) or q4_k; the model file (about 3.8 GB) is written to dir (default /tmp/strata-7b-FORMAT)
#   and deleted at the end unless KEEP=1.
set -euo pipefail
format=${1:-q4_0}
tokens=${2:-32}
dir=${3:-/tmp/strata-7b-$format}
strata=${4:-"$(dirname "$0")/../../src/Strata.Cli/bin/Release/net10.0/strata"}
prompt="The quick brown fox jumps over the lazy dog."
if [ ! -f "$dir/model.gguf" ]; then
  /usr/bin/time -f "init: %e s wall, %M KiB peak RSS" "$strata" model init --preset llama-7b --seed 1 --gguf "$format" --out "$dir"
fi
ls -l "$dir/model.gguf"
lscpu | grep -E "Model name|^CPU\(s\)" || true
/usr/bin/time -f "generate: %e s wall, %M KiB peak RSS" "$strata" generate --local --model "$dir" --prompt "$prompt" --max-tokens "$tokens" --json \
  | tr -d '\n' | grep -oE '"(promptTokens|loadSeconds|ttftSeconds|prefillTokensPerSecond|tpotSeconds|decodeTokensPerSecond|totalSeconds|parameters)": [0-9.eE+-]+'
if [ "${KEEP:-0}" != 1 ]; then
  rm -rf "$dir"
fi
