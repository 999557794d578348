"""lm-evaluation-harness's own bootstrap_stderr of its perplexity aggregation (LAMBADA's perplexity_stderr) over the
per-document log-likelihoods `gpuinfo loglikelihood --per-document` wrote, timed, as evaluate() runs it (a process
pool over every core):

    python3 lmeval_bootstrap.py /path/to/lm-evaluation-harness DOCS.jsonl [ITERS]

Needs the harness's lm_eval folder (a checkout, installed or not), numpy and tqdm; sacrebleu, which metrics.py
imports but this does not use, is stood in for where it is missing.
"""
import importlib.metadata
import json
import os
import sys
import tempfile
import time
import types


def main():
    root, docs = sys.argv[1], sys.argv[2]
    iters = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
    try:
        importlib.metadata.version("lm_eval")
    except importlib.metadata.PackageNotFoundError:
        meta = tempfile.mkdtemp()
        os.makedirs(os.path.join(meta, "lm_eval-0.0.dist-info"))
        with open(os.path.join(meta, "lm_eval-0.0.dist-info", "METADATA"), "w") as f:
            f.write("Metadata-Version: 2.1\nName: lm_eval\nVersion: 0.0\n")
        sys.path.insert(0, meta)
    sys.path.insert(0, root)
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
