#!/usr/bin/env python3
"""PyTorch peer for end-to-end `gpuinfo eval`: load a logits .npy with numpy and compute the same
report (mean NLL, perplexity, bits per token, mean entropy, top-1 accuracy) with PyTorch.

    /usr/bin/time -v python3 eval_peer.py logits.npy targets.npy --threads 2
"""
import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("logits")
ap.add_argument("targets")
ap.add_argument("--threads", type=int, default=2)
args = ap.parse_args()
torch.set_num_threads(args.threads)
t0 = time.perf_counter()
x = torch.from_numpy(np.load(args.logits))
y = torch.from_numpy(np.load(args.targets))
x = x.reshape(-1, x.shape[-1])
y = y.reshape(-1)
with torch.no_grad():
    keep = y != -100
    logp = F.log_softmax(x, -1)
    nll = F.nll_loss(logp, y, ignore_index=-100).item()
    entropy = -(logp.exp() * logp).sum(-1)[keep].mean().item()
    top1 = (x.argmax(-1) == y)[keep].double().mean().item()
print(json.dumps({
    "tokens": int(keep.sum()), "mean_nll": nll, "perplexity": math.exp(nll), "bits_per_token": nll / math.log(2),
    "mean_entropy": entropy, "top1_accuracy": top1, "seconds": time.perf_counter() - t0,
    "peer": f"numpy {np.__version__} + torch {torch.__version__}, {torch.get_num_threads()} threads",
}, indent=2))
