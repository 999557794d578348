#!/usr/bin/env python3
"""PyTorch peer for `gpuinfo bench`: the same row-wise measures on the same data and threads.

    gpuinfo bench --device cpu --rows 512 --vocab 50257 --save-data /tmp/bench
    python3 torch_peer.py /tmp/bench --threads 2 [--device cuda] [--dtype f32|bf16|f16] [--compile] [--ops entropy,kl]

Prints JSON with the median milliseconds of each op (after warm-up), GB/s counted as in gpuinfo
bench (logits read once; the gradient written once), and the values' means for a sanity check.
"""
import argparse
import json
import time

import numpy as np
import torch
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("data")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--device", default="cpu")
ap.add_argument("--dtype", default="f32", choices=["f32", "bf16", "f16"])
ap.add_argument("--repeats", type=int, default=10)
ap.add_argument("--warmups", type=int, default=2)
ap.add_argument("--compile", action="store_true", help="time torch.compile'd ops (the first warm-up compiles)")
ap.add_argument("--ops", help="comma-separated subset of the ops (default all)")
args = ap.parse_args()
torch.set_num_threads(args.threads)
dtype = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}[args.dtype]
dev = torch.device(args.device)
base = torch.from_numpy(np.load(f"{args.data}/base.npy")).to(dev, dtype)
test = torch.from_numpy(np.load(f"{args.data}/test.npy")).to(dev, dtype)
targets = torch.from_numpy(np.load(f"{args.data}/targets.npy")).to(dev)
rows, vocab = base.shape
elem = base.element_size()
read = rows * vocab * elem


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()


def timed(fn):
    for _ in range(args.warmups):
        fn()
    sync()
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        out = fn()
        sync()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def ce_grad():
    x = base.detach().requires_grad_(True)
    loss = F.cross_entropy(x, targets)
    loss.backward()
    return loss.detach()


def entropy():
    logp = F.log_softmax(base, -1)
    return -(logp.exp() * logp).sum(-1)


def kl():
    return F.kl_div(F.log_softmax(test, -1), F.log_softmax(base, -1), log_target=True, reduction="none").sum(-1)


def js():
    lp, lq = F.log_softmax(base, -1), F.log_softmax(test, -1)
    m = torch.logsumexp(torch.stack([lp, lq]), 0) - np.log(2)
    return 0.5 * (F.kl_div(m, lp, log_target=True, reduction="none").sum(-1) + F.kl_div(m, lq, log_target=True, reduction="none").sum(-1))


def evaluate():
    """eval's per-row outputs: loss, entropy, argmax, its probability and the Brier score."""
    logp = F.log_softmax(base, -1)
    p = logp.exp()
    loss = -logp.gather(1, targets[:, None])[:, 0]
    h = -(p * logp).sum(-1)
    confidence, argmax = p.max(-1)
    p_target = torch.exp(-loss)
    brier = (p * p).sum(-1) - 2 * p_target + 1
    return loss, h, confidence, argmax, brier


def compare():
    """compare's per-row outputs with targets: KL both ways, JS, TV, entropy, argmaxes, confidences, NLLs, log ratio, Brier scores."""
    lp, lq = F.log_softmax(base, -1), F.log_softmax(test, -1)
    p, q = lp.exp(), lq.exp()
    forward = (p * (lp - lq)).sum(-1)
    reverse = (q * (lq - lp)).sum(-1)
    lm = torch.logsumexp(torch.stack([lp, lq]), 0) - np.log(2)
    js = 0.5 * ((p * (lp - lm)).sum(-1) + (q * (lq - lm)).sum(-1))
    tv = 0.5 * (p - q).abs().sum(-1)
    h = -(p * lp).sum(-1)
    cp, ap = p.max(-1)
    cq, aq = q.max(-1)
    nll_p = -lp.gather(1, targets[:, None])[:, 0]
    nll_q = -lq.gather(1, targets[:, None])[:, 0]
    brier_p = (p * p).sum(-1) - 2 * torch.exp(-nll_p) + 1
    brier_q = (q * q).sum(-1) - 2 * torch.exp(-nll_q) + 1
    return forward, reverse, js, tv, h, cp, cq, ap, aq, nll_q - nll_p, brier_p, brier_q


ops = [
    ("log-sum-exp", lambda: torch.logsumexp(base, -1), read),
    ("cross-entropy", lambda: F.cross_entropy(base, targets, reduction="none"), read),
    ("cross-entropy+grad", ce_grad, read + rows * vocab * 4),
    ("entropy", entropy, read),
    ("kl", kl, 2 * read),
    ("js", js, 2 * read),
    ("evaluate", evaluate, read),
    ("compare", compare, 2 * read),
]
if args.ops:
    wanted = set(args.ops.split(","))
    ops = [o for o in ops if o[0] in wanted]
if args.compile:
    ops = [(name, torch.compile(fn), nbytes) for name, fn, nbytes in ops]
report = {"peer": f"torch {torch.__version__}{' compile' if args.compile else ''} on {args.device}, {torch.get_num_threads()} threads", "rows": rows, "vocab": vocab, "dtype": args.dtype, "ops": []}
for name, fn, nbytes in ops:
    with torch.no_grad() if name != "cross-entropy+grad" else torch.enable_grad():
        seconds, out = timed(fn)
    first = out[0] if isinstance(out, tuple) else out  # the fused passes: their loss, or KL(base||test)
    report["ops"].append({"op": name, "ms": seconds * 1e3, "gbps": nbytes / seconds / 1e9, "mean": float(first.float().mean())})
print(json.dumps(report, indent=2))
