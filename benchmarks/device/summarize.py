#!/usr/bin/env python3
"""Summary of a device check (check.sh): one Markdown table and one JSON with, per shape, dtype and
op, GpuInfo's ms, GB/s and fraction of the read bandwidth measured in the same bench run, and the
speedup over PyTorch eager and torch.compile on the same data and card.

    python3 summarize.py OUT_DIR      # reads bench_*.json, torch_*.json, torch_compile_*.json,
                                      # ib_gpuinfo.json, ib_torch.json, tokenize*.json and nproc.txt

The IB line: one iteration over rows (4 N V T FLOPs) from gpuinfo's seconds_per_iteration, as a
fraction of cuBLAS's float32 rate (TF32 off) on the same shapes, and against the PyTorch iteration;
with the seconds of it spent in the products (products_seconds_per_iteration) and the host's share
(the solver's own work around them: what to shrink next if the iteration misses its goal).
"""
import glob
import json
import os
import sys

out = sys.argv[1]
rows = []
for bench_path in sorted(glob.glob(os.path.join(out, "bench_*.json"))):
    tag = os.path.basename(bench_path)[len("bench_"):-len(".json")]
    ours = json.load(open(bench_path))
    peers = {}
    for kind, name in (("eager", f"torch_{tag}.json"), ("compile", f"torch_compile_{tag}.json")):
        path = os.path.join(out, name)
        peers[kind] = {o["op"]: o for o in json.load(open(path))["ops"]} if os.path.exists(path) else {}
    for o in ours["ops"]:
        eager, compiled = peers["eager"].get(o["op"]), peers["compile"].get(o["op"])
        rows.append({
            "shape": f"{ours['rows']}x{ours['vocab']}", "dtype": ours["dtype"], "op": o["op"], "device": ours["device"],
            "ms": o["ms"], "gbps": o["gbps"], "fraction_of_read_bw": o["fraction_of_read_bw"], "read_gbps": ours["memory_read_gbps"],
            "max_relative_error": o["max_relative_error"],
            "torch_eager_ms": eager["ms"] if eager else None, "speedup_eager": eager["ms"] / o["ms"] if eager else None,
            "torch_compile_ms": compiled["ms"] if compiled else None, "speedup_compile": compiled["ms"] / o["ms"] if compiled else None,
        })

ib = None
ib_ours, ib_peer = os.path.join(out, "ib_gpuinfo.json"), os.path.join(out, "ib_torch.json")
if os.path.exists(ib_ours) and os.path.exists(ib_peer):
    ours, peer = json.load(open(ib_ours)), json.load(open(ib_peer))
    seconds = ours.get("seconds_per_iteration")
    flops = 4.0 * peer["rows"] * peer["vocab"] * peer["clusters"]
    ib = {
        "shape": f"{peer['rows']}x{peer['vocab']}x{peer['clusters']}", "products": ours["products"], "seconds_per_iteration": seconds,
        "gflops": flops / seconds / 1e9 if seconds else None, "cublas_gflops": peer["cublas_gflops"],
        "fraction_of_cublas": flops / seconds / 1e9 / peer["cublas_gflops"] if seconds else None,
        "torch_seconds": peer["peer_seconds_min"], "speedup_torch": peer["peer_seconds_min"] / seconds if seconds else None,
        "products_seconds_per_iteration": ours.get("products_seconds_per_iteration"),
    }
    product_seconds = ib["products_seconds_per_iteration"]
    ib["host_share"] = 1 - product_seconds / seconds if seconds and product_seconds is not None else None

# Tokenizing on the machine's cores (step 5): counts only, and with --out F.safetensors.
tokenize = []
for name in ("tokenize", "tokenize_out"):
    path = os.path.join(out, f"{name}.json")
    if os.path.exists(path):
        t = json.load(open(path))
        tokenize.append({"run": name, "documents": t["documents"], "tokens": t["tokens"], "bytes": t["bytes"],
                         "seconds": t["tokenize_seconds"], "mb_per_second": t["mb_per_second"]})
cores = open(os.path.join(out, "nproc.txt")).read().strip() if os.path.exists(os.path.join(out, "nproc.txt")) else None

json.dump({"row_measures": rows, "ib": ib, "tokenize": tokenize, "cores": cores}, open(os.path.join(out, "summary.json"), "w"), indent=2)


def f(v, fmt):
    return "-" if v is None else format(v, fmt)


lines = ["| shape | dtype | op | gpuinfo ms | GB/s | of read BW | eager ms | x eager | compile ms | x compile | max rel. err |",
         "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
for r in rows:
    lines.append(f"| {r['shape']} | {r['dtype']} | {r['op']} | {r['ms']:.3f} | {r['gbps']:.0f} | {r['fraction_of_read_bw']:.0%} | "
                 f"{f(r['torch_eager_ms'], '.3f')} | {f(r['speedup_eager'], '.1f')} | {f(r['torch_compile_ms'], '.3f')} | "
                 f"{f(r['speedup_compile'], '.1f')} | {r['max_relative_error']:.1e} |")
if ib:
    lines += ["", "| IB iteration | products | s / iteration | of it in products | host share | GFLOP/s | cuBLAS f32 GFLOP/s | of cuBLAS | torch s | x torch |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
              f"| {ib['shape']} | {ib['products']} | {f(ib['seconds_per_iteration'], '.4f')} | {f(ib['products_seconds_per_iteration'], '.4f')} | "
              f"{f(ib['host_share'], '.0%')} | {f(ib['gflops'], '.0f')} | "
              f"{ib['cublas_gflops']:.0f} | {f(ib['fraction_of_cublas'], '.0%')} | {ib['torch_seconds']:.4f} | {f(ib['speedup_torch'], '.2f')} |"]
if tokenize:
    lines += ["", f"| tokenize (gpt2, {cores} cores) | documents | tokens | MB | s | MB/s |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {t['run']} | {t['documents']} | {t['tokens']} | {t['bytes'] / 1e6:.0f} | {t['seconds']:.2f} | {t['mb_per_second']:.1f} |" for t in tokenize]
open(os.path.join(out, "summary.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
