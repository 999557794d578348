#!/usr/bin/env python3
"""Golden files for GpuInfo's CLI tests, computed by PyTorch in float64.

Run with Debian's python3-torch (1.13, CPU):  /usr/bin/python3 make_golden.py
Writes float32 logits/targets as .npy and golden.json with PyTorch's float64 results for
`gpuinfo eval` and `gpuinfo compare` on them. Semantics follow torch.nn.functional.cross_entropy
(ignore_index, label_smoothing, reduction='mean' = sum / scored rows), kl_div with log targets,
and numpy.percentile's default (linear) rule.
"""
import json
import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(20261123)
B, T, V = 3, 40, 1009
base = (torch.randn(B, T, V) * 3.0)
peaks = torch.randint(0, V, (B, T))
base.scatter_add_(2, peaks.unsqueeze(-1), torch.full((B, T, 1), 10.0))
test = base + 0.05 * torch.randn(B, T, V)
base32, test32 = base.float(), test.float()
targets = torch.randint(0, V, (B, T))
targets[0, 5] = -100
targets[2, 17] = -100
targets[1, 0] = -100

np.save("base.npy", base32.numpy())
np.save("test.npy", test32.numpy())
np.save("targets.npy", targets.numpy().astype(np.int64))

b64, t64 = base32.double(), test32.double()


def calibration(z, y, keep, bins=15):
    """torchmetrics' MulticlassCalibrationError (n_bins=15, norms "l1", "max", "l2"), its
    _binning_bucketize: float32 confidences, bucketize(right=True) over linspace(0, 1, bins + 1), so
    bin k = [k/15, (k+1)/15) and a confidence of exactly 1 in a slot of its own. Also the mean Brier
    score as lm-evaluation-harness's brier_score: sum over classes of (p - one_hot(y))^2."""
    probs = F.softmax(z, -1)
    brier = ((probs[keep] - F.one_hot(y[keep], z.shape[-1]).double()) ** 2).sum(-1).mean().item()
    conf, pred = probs.max(-1)
    conf, correct = conf[keep].float(), (pred == y)[keep].double()
    k = torch.bucketize(conf, torch.linspace(0, 1, bins + 1), right=True) - 1
    ece, mce, squares = 0.0, 0.0, 0.0
    for b in range(bins + 1):
        m = k == b
        if m.any():
            gap = abs(correct[m].mean().item() - conf[m].double().mean().item())
            ece += m.sum().item() / len(conf) * gap
            mce = max(mce, gap)
            squares += m.sum().item() / len(conf) * gap * gap
    return conf.double().mean().item(), ece, mce, squares ** 0.5, brier


def eval_stats(logits, y, smoothing=0.0, temperature=1.0):
    z = (logits / temperature).reshape(-1, V)
    y = y.reshape(-1)
    mean_nll = F.cross_entropy(z, y, ignore_index=-100, label_smoothing=smoothing).item()
    keep = y != -100
    logp = F.log_softmax(z, dim=-1)
    entropy = -(logp.exp() * logp).sum(-1)
    top1 = (z.argmax(-1) == y)[keep].double().mean().item()
    mean_confidence, ece, mce, rmsce, brier = calibration(z, y, keep)
    return {
        "tokens": int(keep.sum()),
        "ignored": int((~keep).sum()),
        "mean_nll": mean_nll,
        "perplexity": float(np.exp(mean_nll)),
        "bits_per_token": mean_nll / np.log(2),
        "mean_entropy": entropy[keep].mean().item(),
        "top1_accuracy": top1,
        "mean_confidence": mean_confidence,
        "ece": ece,
        "mce": mce,
        "rmsce": rmsce,
        "brier": brier,
    }


def shifted(logits, y):
    return logits[:, :-1, :].contiguous(), y[:, 1:].contiguous()


def compare_stats(p_logits, q_logits, y=None, temperature=1.0):
    zp = (p_logits / temperature).reshape(-1, V)
    zq = (q_logits / temperature).reshape(-1, V)
    lp, lq = F.log_softmax(zp, -1), F.log_softmax(zq, -1)
    kl = F.kl_div(lq, lp, log_target=True, reduction="none").sum(-1)
    reverse_kl = F.kl_div(lp, lq, log_target=True, reduction="none").sum(-1)
    m = torch.logsumexp(torch.stack([lp, lq]), 0) - np.log(2)
    js = 0.5 * (F.kl_div(m, lp, log_target=True, reduction="none").sum(-1) + F.kl_div(m, lq, log_target=True, reduction="none").sum(-1))
    p, q = lp.exp(), lq.exp()
    tv = 0.5 * (p - q).abs().sum(-1)
    accepted = torch.minimum(p, q).sum(-1)  # speculative sampling's acceptance probability, Leviathan et al. 2023
    same = zp.argmax(-1) == zq.argmax(-1)
    keep = torch.ones_like(kl, dtype=torch.bool)
    out = {}
    if y is not None:
        y = y.reshape(-1)
        keep = y != -100
        yk = y.clamp(min=0)
        nll_p = -lp.gather(1, yk[:, None])[:, 0]
        nll_q = -lq.gather(1, yk[:, None])[:, 0]
        dp = (torch.exp(-nll_q) - torch.exp(-nll_p))[keep]
        for side, z in (("base", zp), ("test", zq)):
            confidence, ece, mce, rmsce, brier = calibration(z, y, keep)
            out.update({
                f"top1_accuracy_{side}": (z.argmax(-1) == y)[keep].double().mean().item(),
                f"mean_confidence_{side}": confidence,
                f"ece_{side}": ece,
                f"mce_{side}": mce,
                f"rmsce_{side}": rmsce,
                f"brier_{side}": brier,
            })
        out["brier_diff"] = out["brier_test"] - out["brier_base"]
        out.update({
            "ppl_base": float(torch.exp(nll_p[keep].mean())),
            "ppl_test": float(torch.exp(nll_q[keep].mean())),
            "mean_delta_p": dp.mean().item(),
            "rms_delta_p": dp.pow(2).mean().sqrt().item(),
        })
    k = kl[keep].numpy()
    names = [("max", 100), ("p99.9", 99.9), ("p99", 99), ("p95", 95), ("p90", 90), ("median", 50),
             ("p10", 10), ("p5", 5), ("p1", 1), ("p0.1", 0.1), ("min", 0)]
    out.update({
        "tokens": int(keep.sum()),
        "mean_kld": float(k.mean()),
        "kld_percentiles": {n: float(np.percentile(k, q)) for n, q in names},
        "mean_reverse_kld": reverse_kl[keep].mean().item(),
        "mean_js": js[keep].mean().item(),
        "mean_tvd": tv[keep].mean().item(),
        "acceptance_rate": accepted[keep].mean().item(),
        "same_top1": same[keep].double().mean().item(),
    })
    return out


golden = {
    "torch_version": torch.__version__,
    "shape": [B, T, V],
    "eval": eval_stats(b64, targets),
    "eval_smoothing_0.1_temperature_1.5": eval_stats(b64, targets, smoothing=0.1, temperature=1.5),
    "eval_shift": eval_stats(*shifted(b64, targets)),
    "compare": compare_stats(b64, t64),
    "compare_targets_temperature_0.8": compare_stats(b64, t64, targets, temperature=0.8),
}
with open("golden.json", "w") as f:
    json.dump(golden, f, indent=2)
print(json.dumps(golden, indent=2)[:800])
