#!/usr/bin/python3
"""The data of this folder's runs: 512 rows of float32 logits over 151,936 classes (a Qwen2.5 0.5B-3B
vocabulary) for a base and a test model, and the test's rows padded to 152,064 classes (its 7B's) with
logits of -40, as padding. Writes qa.npy, qb.npy and qbp.npy (311 MB each) in the current folder."""
import numpy as np

rng = np.random.default_rng(0)
n, vocab = 512, 151936
a = rng.normal(size=(n, vocab)).astype(np.float32) * 2
b = a + rng.normal(size=a.shape).astype(np.float32) * 0.3
np.save("qa.npy", a)
np.save("qb.npy", b)
np.save("qbp.npy", np.concatenate([b, np.full((n, 128), -40, np.float32)], 1))
