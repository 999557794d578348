"""A second run of ../2026-12-07-loglikelihood-encode-cpu-2core/make_mmlu_like.py's samples (/tmp/mmlu_like.jsonl): the
same requests, each log-likelihood moved by N(0, 0.5) as another model's might be, and each document's acc and acc_norm
as the harness would log them for those. Writes /tmp/mmlu_like_test.jsonl."""
import json
import random

random.seed(2)
with open("/tmp/mmlu_like.jsonl") as f, open("/tmp/mmlu_like_test.jsonl", "w") as g:
    for line in f:
        d = json.loads(line)
        lls = [float(r[0]) + random.gauss(0, 0.5) for r in d["filtered_resps"]]
        d["filtered_resps"] = [[repr(ll), "False"] for ll in lls]
        d["resps"] = [[[repr(ll), "False"]] for ll in lls]
        pred = max(range(4), key=lambda i: lls[i])
        d["acc"] = d["acc_norm"] = 1.0 if pred == int(d["target"]) else 0.0
        g.write(json.dumps(d) + "\n")
