# Inputs of the CLI timings in README.md (run with /usr/bin/python3 in an empty folder).
import numpy as np
r = np.random.default_rng(5)
W = r.random((300, 300)); W /= W.sum(1, keepdims=True); np.save('w300.npy', W)
W = r.random((2048, 8191)); W[r.random(W.shape) < 0.2] = 0; W /= W.sum(1, keepdims=True); np.save('w2048.npy', W)
W = r.random((40, 1100)); W /= W.sum(1, keepdims=True); np.save('w40.npy', W)
i = np.arange(300)[:, None]; j = np.arange(149)[None, :]; np.save('d149.npy', np.abs(i - 2 * j) * 1.0)
np.save('p149.npy', np.random.default_rng(9).random(300))
# The fixed-iteration agreement check (rd --max-iterations 200 at beta 0.001, 0.02, 0.3, 3; both builds):
i = np.arange(300)[:, None]; j = np.arange(1299)[None, :]
np.save('d300.npy', np.abs(i - j / 4.0)); np.save('p300.npy', np.random.default_rng(11).random(300))
