"""Writes f1_reference.json: scikit-learn's f1_score of drawn (gold, prediction) lists under each average gpuinfo
computes (Classification.F1, MeanF1OfLabels), and lm-evaluation-harness's own f1 aggregations of the same lists, each
task's function as its yaml names it (kobest's macro_f1_score, AraDiCE's micro_f1_score, lm_eval.utils's
weighted_f1_score, SuperGLUE cb's cb_multi_fi, basqueglue vaxx's vaxx_f1_score through Hugging Face's f1, which is
scikit-learn's: a stand-in here, as datasets.load_metric is not installed), also of the GLUE-shaped runs' logged pairs.

Usage: /usr/bin/python3 make_f1_reference.py LM_EVAL_CHECKOUT (scikit-learn 1.2: Debian's python3-sklearn)
"""
import importlib.util
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.metrics import f1_score

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "scripts"))
import lmeval_checkout  # noqa: E402
import make_harness_aggregations  # noqa: E402


def function(root, path, name):
    spec = importlib.util.spec_from_file_location(name + "_module", os.path.join(root, "lm_eval", "tasks", path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def main():
    root = sys.argv[1]
    lmeval_checkout.use(root)
    make_harness_aggregations.hf_f1_stand_in()
    import warnings
    warnings.filterwarnings("ignore")
    from lm_eval import utils
    harness = {
        "macro": function(root, "kobest/utils.py", "macro_f1_score"),
        "micro": function(root, "aradice/piqa/metrics.py", "micro_f1_score"),
        "weighted": utils.weighted_f1_score,
        "labels 0 1 2": function(root, "super_glue/cb/aggregate.py", "cb_multi_fi"),
        "labels 0 2": function(root, "basqueglue/utils.py", "vaxx_f1_score"),
    }
    drawn = np.random.default_rng(20261208)
    cases = []
    for n, classes, absent in ((7, 2, None), (60, 2, None), (50, 3, None), (80, 3, 1), (40, 4, None), (120, 5, 2), (9, 6, 0), (30, 3, None)):
        labels = [k for k in range(classes) if k != absent]
        golds = [int(x) for x in drawn.choice(labels, size=n)]
        predictions = [g if drawn.random() < 0.5 else int(drawn.choice(labels)) for g in golds]
        items = list(zip(golds, predictions))
        case = {"golds": golds, "predictions": predictions}
        if classes == 2:
            case["binary"] = float(f1_score(golds, predictions))
        for average in ("micro", "macro", "weighted"):
            case[average] = float(f1_score(golds, predictions, average=average))
        for fixed in ([0, 1, 2], [0, 2]):
            case["labels " + " ".join(map(str, fixed))] = float(np.mean(f1_score(golds, predictions, labels=fixed, average=None, zero_division=0)))
        case["harness"] = {name: float(aggregate(items)) for name, aggregate in harness.items()}
        cases.append(case)
    # The GLUE-shaped runs' logged (gold, prediction) pairs (samples_paired_RUN_glue.jsonl), aggregated by each function.
    runs = {}
    for run in ("base", "test"):
        with open(os.path.join(HERE, f"samples_paired_{run}_glue.jsonl"), encoding="utf-8") as f:
            items = [tuple(json.loads(line)["f1"]) for line in f]
        runs[run] = {name: float(aggregate(items)) for name, aggregate in harness.items()}
    with open(os.path.join(HERE, "f1_reference.json"), "w", encoding="utf-8") as f:
        json.dump({"sklearn": sklearn.__version__, "cases": cases, "glue": runs}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
