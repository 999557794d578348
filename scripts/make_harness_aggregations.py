"""Writes src/GpuInfo.Cli/HarnessAggregations.tsv: how lm-evaluation-harness aggregates the metrics gpuinfo reports
of each multiple-choice and loglikelihood task, where that is not their default, by task and metric; f1's for every
task that logs it, found by running the task's own aggregation function.

acc, acc_norm and acc_bytes are means of the per-document values and mcc scikit-learn's matthews_corrcoef, unless a
task's yaml names another aggregation (tinyBenchmarks' IRT estimates of acc_norm): such a task's metric is listed as
"other FUNCTION", which gpuinfo reports as not computed.

A multiple-choice task's samples log its f1 as a (gold, prediction) pair per document; the task's yaml names the
aggregation over them (metric_list: - metric: f1, aggregation: ...): none or "f1" is the harness's f1_score
(scikit-learn's binary f1), and most tasks name a function of their own (afrobench's weighted_f1_score, AraDiCE's
micro_f1_score, kobest's macro_f1_score, SuperGLUE cb's mean of three one-vs-rest f1s). Each such function is
imported from the task's folder and called on drawn (gold, prediction) lists of 2 to 5 classes, some classes absent,
and named by the scikit-learn f1_score it equals on every one: binary, micro, macro, weighted, or the mean of the
per-class f1s of fixed labels ("labels 0 1 2", zero where a label is neither gold nor predicted); one that equals
none (or cannot be imported) is "other FUNCTION", which gpuinfo reports as not computed.

Usage: /usr/bin/python3 scripts/make_harness_aggregations.py LM_EVAL_CHECKOUT [COMMIT] (COMMIT names the checkout where it
is not a git repository: a `git archive` of one)
(needs numpy, PyYAML and scikit-learn: Debian's python3-numpy, python3-yaml, python3-sklearn)
"""
import collections
import importlib.util
import itertools
import os
import subprocess
import sys
import types

import numpy as np
import yaml
from sklearn.metrics import f1_score

HERE = os.path.dirname(os.path.abspath(__file__))


def hf_f1_stand_in():
    """datasets.load_metric("f1") / evaluate.load("f1") as Hugging Face defines it: scikit-learn's f1_score over
    references and predictions with the keyword arguments given, {"f1": value}."""
    class F1:
        def compute(self, references, predictions, labels=None, pos_label=1, average="binary", sample_weight=None):
            return {"f1": f1_score(references, predictions, labels=labels, pos_label=pos_label, average=average, sample_weight=sample_weight)}
    for name in ("datasets", "evaluate"):
        module = sys.modules.get(name) or types.ModuleType(name)
        module.load_metric = module.load = lambda *args, **kwargs: F1()
        module.Dataset = object
        sys.modules[name] = module


def load_yaml(path):
    """A task yaml with its includes applied (the including file's keys win), each !function named by the folder of
    the file that holds it."""
    class Loader(yaml.SafeLoader):
        pass
    folder = os.path.dirname(path)
    Loader.add_constructor("!function", lambda loader, node: ("function", folder, loader.construct_scalar(node)))
    with open(path, encoding="utf-8") as f:
        doc = yaml.load(f, Loader=Loader) or {}
    if not isinstance(doc, dict):
        return {}
    if isinstance(doc.get("include"), str):
        base = load_yaml(os.path.join(folder, doc["include"]))
        base.update({k: v for k, v in doc.items() if k != "include"})
        doc = base
    return doc


def trials():
    """(gold, prediction) lists: 2 to 5 classes, 60 documents, and some with a class neither gold nor predicted."""
    drawn = np.random.default_rng(20261207)
    lists = []
    for classes in (2, 2, 3, 3, 4, 5):
        lists.append([(int(g), int(p)) for g, p in drawn.integers(0, classes, size=(60, 2))])
    lists.append([(int(g), int(p)) for g, p in drawn.choice([0, 2, 3], size=(60, 2))])
    lists.append([(int(g), int(p)) for g, p in drawn.choice([0, 1], size=(60, 2))] + [(2, 0)])
    return lists


def candidates():
    yield "binary", lambda g, p: f1_score(g, p)
    for average in ("micro", "macro", "weighted"):
        yield average, lambda g, p, a=average: f1_score(g, p, average=a)
    for size in (2, 3, 4, 5):
        for labels in itertools.combinations(range(5), size):
            yield "labels " + " ".join(map(str, labels)), lambda g, p, l=labels: float(np.mean(f1_score(g, p, labels=list(l), average=None, zero_division=0)))


def outcome(function, items):
    try:
        return float(function(items))
    except Exception as error:  # noqa: BLE001 -- refusing a case is an outcome to match
        return type(error).__name__


def classify(function):
    data = trials()
    outcomes = [outcome(function, items) for items in data]
    for name, candidate in candidates():
        theirs = [outcome(lambda items: candidate([g for g, _ in items], [p for _, p in items]), items) for items in data]
        if all((a == b) if isinstance(a, str) or isinstance(b, str) else abs(a - b) <= 1e-12 for a, b in zip(outcomes, theirs)):
            return name
    return None


# The aggregations gpuinfo computes for each metric besides f1: none named (the metric's default) or its default named.
DEFAULTS = {"acc": (None, "mean"), "acc_norm": (None, "mean"), "acc_bytes": (None, "mean"), "mcc": (None, "matthews_corrcoef"), "perplexity": (None, "perplexity")}


def f1_kind(aggregation, functions):
    """A task's f1 aggregation named as gpuinfo computes it (binary, micro, macro, weighted, labels ...) or "other FUNCTION"."""
    if aggregation in (None, "f1"):
        return "binary"
    if not isinstance(aggregation, tuple):
        return f"other {aggregation}"
    _, where, dotted = aggregation
    module, function = dotted.rsplit(".", 1)
    key = (os.path.join(where, module.replace(".", os.sep) + ".py"), function)
    if key not in functions:
        try:
            spec = importlib.util.spec_from_file_location(f"task_{len(functions)}", key[0])
            loaded = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(loaded)
            if not hasattr(loaded, function):
                # afrimmlu's utils.py imported lm_eval.utils.weighted_f1_score until v0.4.9; the import has since gone
                # (its tasks fail to load at this checkout): runs logged by the versions that loaded them aggregated
                # with that function.
                import lm_eval.utils
                loaded = lm_eval.utils
            functions[key] = classify(getattr(loaded, function))
        except Exception:  # noqa: BLE001 -- named as not computed
            functions[key] = None
    return functions[key] or f"other {dotted}"


def main():
    root = sys.argv[1]
    out = os.path.join(HERE, "..", "src", "GpuInfo.Cli", "HarnessAggregations.tsv")
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "GpuInfo.Tests", "Models"))
    import lmeval_checkout  # the checkout importable whether or not it is installed (afrobench imports lm_eval.utils)
    lmeval_checkout.use(root)
    hf_f1_stand_in()
    import warnings
    warnings.filterwarnings("ignore")
    functions = {}
    rows = {}
    kinds, tags, groups = {}, collections.defaultdict(list), {}
    for folder, _, files in sorted(os.walk(os.path.join(root, "lm_eval", "tasks"))):
        for name in sorted(files):
            if not name.endswith(".yaml"):
                continue
            try:
                doc = load_yaml(os.path.join(folder, name))
            except Exception:  # noqa: BLE001 -- a template that is not a task on its own
                continue
            task = doc.get("task")
            if "group" in doc and isinstance(task, list):
                groups[doc["group"]] = doc
                continue
            if isinstance(task, str):
                kinds[task] = doc.get("output_type")
                tag = doc.get("tag") or []
                for name in [tag] if isinstance(tag, str) else tag:
                    tags[name].append(task)
            if doc.get("output_type") not in ("multiple_choice", "loglikelihood") or not isinstance(task, str):
                continue
            for metric in doc.get("metric_list") or []:
                if not isinstance(metric, dict) or not isinstance(metric.get("metric"), str):
                    continue
                name, aggregation = metric["metric"], metric.get("aggregation")
                if name == "f1":
                    rows[(task, name)] = f1_kind(aggregation, functions)
                elif name in DEFAULTS and aggregation not in DEFAULTS[name]:
                    rows[(task, name)] = "other " + (aggregation[2] if isinstance(aggregation, tuple) else str(aggregation))
    commit = sys.argv[2] if len(sys.argv) > 2 else subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"# lm-evaluation-harness's aggregations of its multiple-choice and loglikelihood tasks' metrics, where gpuinfo's default is not theirs, and every f1's: task, metric, aggregation; written by scripts/make_harness_aggregations.py from its tasks at {commit}\n")
        for (task, metric) in sorted(rows):
            f.write(f"{task}\t{metric}\t{rows[(task, metric)]}\n")
    counts = collections.Counter(f"{metric} {kind}" for (_, metric), kind in rows.items())
    print(f"{len(rows)} rows; " + ", ".join(f"{k}: {n}" for k, n in sorted(counts.items())))
    write_groups(groups, kinds, tags, commit)


def leaves(name, groups, kinds, tags, seen=()):
    """A group's leaf tasks as lm_eval/api/group.py's get_all_tasks finds them: its items are groups (their leaves),
    tasks, tags (every task carrying the tag) or inline task configurations (their task)."""
    if isinstance(name, dict):
        return [name["task"]] if isinstance(name.get("task"), str) else []
    if name in groups and name not in seen:
        return [leaf for item in groups[name]["task"] for leaf in leaves(item, groups, kinds, tags, seen + (name,))]
    if name in kinds:
        return [name]
    return list(tags.get(name, []))


def write_groups(groups, kinds, tags, commit):
    """src/GpuInfo.Cli/HarnessGroups.tsv.gz: each group that aggregates metrics of multiple-choice or loglikelihood
    tasks, its aggregations (metric and whether weighted by size, filter none) and its leaf tasks."""
    import gzip
    lines = [f"# lm-evaluation-harness's groups that aggregate multiple-choice and loglikelihood tasks: group, metric:weighted,..., leaf tasks; written by scripts/make_harness_aggregations.py from its tasks at {commit}"]
    for name in sorted(groups):
        doc = groups[name]
        aggregations = doc.get("aggregate_metric_list") or []
        aggregations = [aggregations] if isinstance(aggregations, dict) else aggregations
        wanted = []
        for a in aggregations:
            filters = a.get("filter_list", ["none"]) if isinstance(a, dict) else None
            filters = [filters] if isinstance(filters, str) else filters
            if isinstance(a, dict) and isinstance(a.get("metric"), str) and a.get("aggregation", "mean") == "mean" and (filters is None or "none" in filters):
                weighted = a.get("weight_by_size", True)
                wanted.append(f"{a['metric']}:{'size' if weighted in (True, 'true', 'True') else 'equal'}")
        found = list(dict.fromkeys(leaves(name, groups, kinds, tags)))
        if wanted and found and any(kinds.get(t) in ("multiple_choice", "loglikelihood") for t in found):
            lines.append(f"{name}\t{','.join(wanted)}\t{' '.join(found)}")
    with gzip.GzipFile(os.path.join(HERE, "..", "src", "GpuInfo.Cli", "HarnessGroups.tsv.gz"), "wb", mtime=0) as f:
        f.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(f"{len(lines) - 1} groups")

if __name__ == "__main__":
    main()
