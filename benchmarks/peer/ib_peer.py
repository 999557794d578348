#!/usr/bin/env python3
"""NumPy peer for one Information Bottleneck iteration over rows of logits (issue 16), the same
fused pass as GpuInfo's ConditionalIbProducts.Step: per chunk of rows, softmax(z / T) into P, the
cross terms P @ log q(y|t).T, the chunk's encoder rows, and its share of the next decoder numerator
(p(x) q(t|x)).T @ P. Runs in float32 or float64 on NumPy's BLAS (OpenBLAS with libopenblas0-pthread;
set OPENBLAS_NUM_THREADS to the cores GpuInfo uses). FLOPs counted: 4 N V T (two products).

    python3 ib_peer.py --rows 4096 --vocab 50257 --clusters 64 --dtype float32 [--logits F.npy] [--write F.npy]
    python3 ib_peer.py --gemm 2048      # the machine's float32 matrix-multiply rate, for reference
"""
import argparse
import json
import time

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--rows", type=int, default=4096)
ap.add_argument("--vocab", type=int, default=50257)
ap.add_argument("--clusters", type=int, default=64)
ap.add_argument("--temperature", type=float, default=1.0)
ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
ap.add_argument("--chunk-rows", type=int, default=256)
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--beta", type=float, default=10.0)
ap.add_argument("--logits", help="read the logits (.npy [rows, vocab]) instead of generating them")
ap.add_argument("--write", help="write the generated float32 logits here (for GpuInfo's benchmark)")
ap.add_argument("--gemm", type=int, help="only measure an n x n x n float32 matmul")
args = ap.parse_args()

if args.gemm:
    n = args.gemm
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    a @ b
    times = []
    for _ in range(args.repeat + 2):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    print(json.dumps({"gemm_n": n, "gflops": 2 * n ** 3 / min(times) / 1e9, "seconds": min(times)}))
    raise SystemExit

dt = np.dtype(args.dtype)
if args.logits:
    z_all = np.load(args.logits, mmap_mode="r")
    n, v = z_all.shape
else:
    n, v = args.rows, args.vocab
    rng = np.random.default_rng(0)
    z_all = rng.standard_normal((n, v), dtype=np.float32) * np.float32(2)
    if args.write:
        np.save(args.write, z_all)
t_clusters = args.clusters
rng = np.random.default_rng(1)
px = np.full(n, 1.0 / n)
neg_hyx = np.zeros(n)  # its value does not change the cost
enc = rng.random((n, t_clusters))
enc /= enc.sum(1, keepdims=True)
qt = px @ enc
log_dec = np.log(rng.random((t_clusters, v)) + 1e-9).astype(dt)
log_qt = np.log(qt)
inv_t = dt.type(1.0 / args.temperature)


def iteration():
    numerator = np.zeros((t_clusters, v))
    new_enc = np.empty_like(enc)
    p = np.empty((args.chunk_rows, v), dtype=dt)
    for r0 in range(0, n, args.chunk_rows):
        r1 = min(n, r0 + args.chunk_rows)
        c = p[: r1 - r0]
        np.multiply(z_all[r0:r1], inv_t, out=c, casting="unsafe")
        c -= c.max(1, keepdims=True)
        np.exp(c, out=c)
        c /= c.sum(1, keepdims=True, dtype=np.float64).astype(dt)
        cross = (c @ log_dec.T).astype(np.float64)
        s = log_qt - args.beta * (neg_hyx[r0:r1, None] - cross)
        s -= s.max(1, keepdims=True)
        e = np.exp(s)
        new_enc[r0:r1] = e / e.sum(1, keepdims=True)
        w = (px[r0:r1, None] * new_enc[r0:r1]).astype(dt)
        numerator += w.T @ c
    return numerator, new_enc


iteration()
times = []
for _ in range(args.repeat):
    t = time.perf_counter()
    iteration()
    times.append(time.perf_counter() - t)
flops = 4.0 * n * v * t_clusters
print(json.dumps({"rows": n, "vocab": v, "clusters": t_clusters, "dtype": args.dtype, "chunk_rows": args.chunk_rows,
                  "seconds_min": min(times), "seconds_median": float(np.median(times)), "gflops": flops / min(times) / 1e9}))
