"""Fits the 2^r polynomial of VectorExp.cs: degree 6 on [-1/2, 1/2], minimax in relative error
(Lawson's iteratively reweighted least squares), with the constant term fixed at 1.
Run with Debian's python3 (numpy): /usr/bin/python3 fit_exp2.py"""
import numpy as np

DEGREE = 6
r = np.cos(np.linspace(0, np.pi, 4000)) * 0.5
f = 2.0 ** r
a = np.stack([r ** k for k in range(1, DEGREE + 1)], 1) / f[:, None]
b = (f - 1) / f
w = np.ones_like(r)
for _ in range(200):
    sw = np.sqrt(w)
    c, *_ = np.linalg.lstsq(a * sw[:, None], b * sw, rcond=None)
    w = w * np.abs(a @ c - b)
    w /= w.sum()
c32 = [np.float32(x) for x in c]
rr = np.linspace(-0.5, 0.5, 200001)
p = 1 + sum(float(c32[k - 1]) * rr ** k for k in range(1, DEGREE + 1))
print("max relative error", np.max(np.abs(p / 2 ** rr - 1)))
for k, x in enumerate(c32, 1):
    print(f"C{k} = {float(x)!r}f")
