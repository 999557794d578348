"""lm-evaluation-harness's own bootstrap_stderr of its perplexity aggregation (LAMBADA's perplexity_stderr) over the
per-document log-likelihoods `gpuinfo loglikelihood --per-document` wrote, timed, as evaluate() runs it (a process
pool over every core):

    python3 lmeval_bootstrap.py /path/to/lm-evaluation-harness DOCS.jsonl [ITERS]

Needs the harness's lm_eval folder (a checkout, installed or not), numpy and tqdm; sacrebleu, which metrics.py
imports but this does not use, is stood in for where it is missing.
"""
import json
import os
import sys
import time
import types

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "GpuInfo.Tests", "Models"))
import lmeval_checkout  # noqa: E402


def main():
    root, docs = sys.argv[1], sys.argv[2]
    iters = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
    lmeval_checkout.use(root)
    try:
        import sacrebleu  # noqa: F401
    except ImportError:
        sys.modules["sacrebleu"] = types.ModuleType("sacrebleu")
    from lm_eval.api import metrics

    with open(docs, encoding="utf-8") as f:
        values = [json.loads(line)["loglikelihood"] for line in f if line.strip()]
    start = time.perf_counter()
    stderr = metrics.bootstrap_stderr(metrics.perplexity, values, iters)
    seconds = time.perf_counter() - start
    print(json.dumps({"documents": len(values), "iterations": iters, "cpus": os.cpu_count(), "python": sys.version.split()[0],
                      "perplexity": metrics.perplexity(values), "perplexity_stderr": stderr, "seconds": round(seconds, 3)}))


if __name__ == "__main__":
    main()
