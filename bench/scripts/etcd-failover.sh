#!/usr/bin/env bash
# Fail-over times of the etcd-backed control plane (docs/benchmarks.md): three etcd members, two coordinators
# (--registry etcd://...), one block server for all blocks of the tiny preset, a gateway given both coordinators.
#   1. SIGKILL coordinator A; time until the first successful gateway request (HTTP 200), beside one request before the kill.
#   2. SIGKILL the block server; time until coordinator B logs that its entry left without deregistering (lease = 3 heartbeats).
# Usage: bench/scripts/etcd-failover.sh [REPEATS] [HEARTBEAT_MS]   (needs etcd, curl, a Release build of src/Strata.Cli)
set -euo pipefail
cd "$(dirname "$0")/../.."
repeats=${1:-5}; hb=${2:-2000}
strata=(dotnet src/Strata.Cli/bin/Release/net10.0/strata.dll)
work=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
listening() { for _ in $(seq 300); do grep -o 'listening on .*' "$1" 2>/dev/null | head -1 | cut -d' ' -f3 && return; sleep 0.1; done; echo "no listening line in $1" >&2; exit 1; }
now() { date +%s.%N; }
"${strata[@]}" model init --preset tiny --seed 3 --out "$work/model" >/dev/null
for r in $(seq "$repeats"); do
  c=(); p=(); for i in 0 1 2; do c+=("$(port)"); p+=("$(port)"); done
  cluster="m0=http://127.0.0.1:${p[0]},m1=http://127.0.0.1:${p[1]},m2=http://127.0.0.1:${p[2]}"
  for i in 0 1 2; do
    etcd --name m$i --data-dir "$work/r$r-m$i" --listen-client-urls http://127.0.0.1:${c[$i]} --advertise-client-urls http://127.0.0.1:${c[$i]} \
      --listen-peer-urls http://127.0.0.1:${p[$i]} --initial-advertise-peer-urls http://127.0.0.1:${p[$i]} --initial-cluster "$cluster" \
      --initial-cluster-state new --initial-cluster-token "r$r-$$" --log-level warn 2>"$work/r$r-etcd$i.log" & pids+=($!)
  done
  for i in 0 1 2; do until curl -s http://127.0.0.1:${c[$i]}/health | grep -q true; do sleep 0.1; done; done
  registry="etcd://127.0.0.1:${c[0]},127.0.0.1:${c[1]},127.0.0.1:${c[2]}"
  "${strata[@]}" serve coordinator --heartbeat-ms "$hb" --registry "$registry" >"$work/r$r-a.out" 2>"$work/r$r-a.err" & a=$!; pids+=($a)
  "${strata[@]}" serve coordinator --heartbeat-ms "$hb" --registry "$registry" >"$work/r$r-b.out" 2>"$work/r$r-b.err" & pids+=($!)
  A=$(listening "$work/r$r-a.out"); B=$(listening "$work/r$r-b.out")
  "${strata[@]}" serve block --coordinator "$A,$B" --model "$work/model" --blocks 0:4 >"$work/r$r-s.out" 2>"$work/r$r-s.err" & s=$!; pids+=($s)
  "${strata[@]}" serve gateway --coordinator "$A,$B" --model "$work/model" >"$work/r$r-g.out" 2>"$work/r$r-g.err" & pids+=($!)
  listening "$work/r$r-s.out" >/dev/null; G=$(listening "$work/r$r-g.out")
  req() { curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"prompt":"Hello","max_tokens":8,"temperature":0}' "$G/v1/completions"; }
  until [ "$(req)" = 200 ]; do sleep 0.1; done
  b0=$(now); req >/dev/null; b1=$(now)
  kill -9 $a; t0=$(now)
  until [ "$(req)" = 200 ]; do :; done; t1=$(now)
  kill -9 $s; t2=$(now)
  until grep -q "left without deregistering" "$work/r$r-b.err"; do sleep 0.01; done; t3=$(now)
  python3 -c "print(f'run $r: request with both coordinators up {($b1-$b0):.3f} s; first 200 after coordinator SIGKILL {($t1-$t0):.3f} s; server entry expired {($t3-$t2):.3f} s after its SIGKILL (heartbeat $hb ms, lease {max(2,-(-3*$hb//1000))} s)')"
  for q in "${pids[@]}"; do kill -9 "$q" 2>/dev/null || true; done; pids=()
done
