#!/usr/bin/env python3
"""Condenses Vidur's operator and NCCL profiles into the two CSV files shipped here.

Usage: python3 condense.py <vidur data/profiling folder (compute/, network/)> <output folder>
Keeps the median of each operator (ms); drops min/max/mean/std. Compute rows: num_tokens <= 4096 only.
Network rows: rank 0, message sizes thinned to the measured size nearest each power of 2^(1/4).
"""
import csv
import glob
import math
import os
import sys

OPS = ["emb", "input_layernorm", "attn_pre_proj", "attn_rope", "attn_post_proj", "post_attention_layernorm",
       "mlp_up_proj", "mlp_act", "mlp_down_proj", "add"]
SHAPE = ["n_head", "n_kv_head", "n_embd", "n_expanded_embd", "vocab_size", "use_gated_mlp"]


def compute(source, out):
    with open(os.path.join(out, "operators.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["gpu", "model"] + SHAPE + ["num_tokens", "tensor_parallel"] + [op + "_ms" for op in OPS])
        for path in sorted(glob.glob(os.path.join(source, "compute", "*", "*", "*", "mlp.csv"))):
            parts = path.split(os.sep)
            gpu, model = parts[-4], parts[-3] + "/" + parts[-2]
            rows = list(csv.DictReader(open(path)))
            rows.sort(key=lambda r: (int(r["num_tensor_parallel_workers"]), int(r["num_tokens"])))
            for r in rows:
                if int(r["num_tokens"]) > 4096:
                    continue
                medians = [r.get(f"time_stats.{op}.median", "") for op in OPS]
                medians = ["" if m == "" else f"{float(m):.4g}" for m in medians]
                w.writerow([gpu, model] + [r[s] for s in SHAPE] + [r["num_tokens"], r["num_tensor_parallel_workers"]] + medians)


def network(source, out):
    with open(os.path.join(out, "collectives.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["cluster", "collective", "num_workers", "devices_per_node", "size_bytes", "median_ms"])
        for path in sorted(glob.glob(os.path.join(source, "network", "*", "*.csv"))):
            cluster = path.split(os.sep)[-2]
            rows = [r for r in csv.DictReader(open(path)) if r["rank"] == "0"]
            collective = rows[0]["collective"]
            groups = {}
            for r in rows:
                groups.setdefault((int(r["num_workers"]), int(r["devices_per_node"])), []).append(r)
            for (workers, per_node), group in sorted(groups.items()):
                sizes = sorted({int(r["size"]) for r in group})
                keep = set()
                k = math.ceil(4 * math.log2(sizes[0]))
                while 2 ** (k / 4) <= sizes[-1] * 1.0001:
                    target = 2 ** (k / 4)
                    keep.add(min(sizes, key=lambda s: abs(math.log(s / target))))
                    k += 1
                keep.add(sizes[-1])
                for r in sorted(group, key=lambda r: int(r["size"])):
                    if int(r["size"]) in keep:
                        keep.discard(int(r["size"]))
                        w.writerow([cluster, collective, workers, per_node, r["size"],
                                    f"{float(r[f'time_stats.{collective}.median']):.4g}"])


if __name__ == "__main__":
    compute(sys.argv[1], sys.argv[2])
    network(sys.argv[1], sys.argv[2])
