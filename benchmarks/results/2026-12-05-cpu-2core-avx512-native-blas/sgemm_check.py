import numpy as np, sys
rng = np.random.default_rng(int(sys.argv[1]) if len(sys.argv)>1 else 0)
worst = 0
for (m,n,k) in [(256,667,4096),(256,50257,667),(64,1334,4096),(1,50257,1334),(37,1001,513),(256,4096,4096),(300,777,65)]:
    a = rng.standard_normal((m,k)).astype(np.float32)
    b = rng.standard_normal((k,n)).astype(np.float32)
    for ta,tb in [(False,False),(False,True),(True,False)]:
        A = np.ascontiguousarray(a.T).T if ta else a
        B = np.ascontiguousarray(b.T).T if tb else b
        c = A @ B
        ref = a.astype(np.float64) @ b.astype(np.float64)
        scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
        err = np.max(np.abs(c - ref) / scale)
        worst = max(worst, err)
print("worst error / (|a||b|):", worst)
