#!/usr/bin/env python3
"""PyTorch peer for one Information Bottleneck iteration over rows of logits on a GPU (issue 16): the
same fused pass as ib_peer.py (softmax(z / T) per chunk, cross terms P @ log q(y|t).T, the chunk's
encoder rows, its share of the decoder numerator (p(x) q(t|x)).T @ P), in float32 with TF32 off,
the logits resident on the device. Also measures cuBLAS's float32 rate (TF32 off) on the iteration's
two product shapes, the yardstick of the issue's goal. FLOPs counted: 4 N V T (two products).

    python3 ib_torch_peer.py --rows 16384 --vocab 50257 --clusters 256 [--write F.npy] [--device cuda]

--write saves the generated logits (float32 .npy) for `gpuinfo ib --logits F.npy` on the same data.
Prints one JSON object.
"""
import argparse
import json
import time

import numpy as np
import torch

ap = argparse.ArgumentParser()
ap.add_argument("--rows", type=int, default=16384)
ap.add_argument("--vocab", type=int, default=50257)
ap.add_argument("--clusters", type=int, default=256)
ap.add_argument("--chunk-rows", type=int, default=4096)
ap.add_argument("--beta", type=float, default=10.0)
ap.add_argument("--repeat", type=int, default=5)
ap.add_argument("--device", default="cuda")
ap.add_argument("--write", help="save the generated float32 logits here")
args = ap.parse_args()
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = torch.device(args.device)
n, v, t_clusters = args.rows, args.vocab, args.clusters
args.chunk_rows = min(args.chunk_rows, n)  # fewer rows than a chunk: one chunk of them all
gen = torch.Generator(device=dev).manual_seed(0)
z = torch.randn((n, v), generator=gen, device=dev, dtype=torch.float32) * 2
if args.write:
    np.save(args.write, z.cpu().numpy())


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, repeat):
    fn()
    sync()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return min(times), float(np.median(times))


# cuBLAS float32 on the two product shapes, operands resident.
p = torch.softmax(z[: args.chunk_rows], dim=1)
log_dec = torch.log(torch.rand((t_clusters, v), generator=gen, device=dev) + 1e-9)
w = torch.rand((args.chunk_rows, t_clusters), generator=gen, device=dev)
cross_s, _ = timed(lambda: p @ log_dec.T, args.repeat)
numer_s, _ = timed(lambda: w.T @ p, args.repeat)
gemm_flops = 2.0 * args.chunk_rows * v * t_clusters

px = torch.full((n,), 1.0 / n, device=dev, dtype=torch.float64)
enc = torch.rand((n, t_clusters), generator=gen, device=dev, dtype=torch.float64)
enc /= enc.sum(1, keepdim=True)
log_qt = torch.log(px @ enc)
neg_hyx = torch.zeros(n, device=dev, dtype=torch.float64)


def iteration():
    numerator = torch.zeros((t_clusters, v), device=dev, dtype=torch.float64)
    new_enc = torch.empty_like(enc)
    for r0 in range(0, n, args.chunk_rows):
        r1 = min(n, r0 + args.chunk_rows)
        c = torch.softmax(z[r0:r1], dim=1)
        cross = (c @ log_dec.T).double()
        s = log_qt - args.beta * (neg_hyx[r0:r1, None] - cross)
        new_enc[r0:r1] = torch.softmax(s, dim=1)
        numerator += ((px[r0:r1, None] * new_enc[r0:r1]).float().T @ c).double()
    return numerator, new_enc


it_min, it_median = timed(iteration, args.repeat)
flops = 4.0 * n * v * t_clusters
print(json.dumps({
    "rows": n, "vocab": v, "clusters": t_clusters, "chunk_rows": args.chunk_rows, "device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
    "torch": torch.__version__, "tf32": False,
    "cublas_cross_gflops": gemm_flops / cross_s / 1e9, "cublas_numerator_gflops": gemm_flops / numer_s / 1e9,
    "cublas_gflops": 2 * gemm_flops / (cross_s + numer_s) / 1e9,
    "peer_seconds_min": it_min, "peer_seconds_median": it_median, "peer_gflops": flops / it_min / 1e9,
}))
