"""lm-evaluation-harness's own loglikelihood code over window.onnx (in float64): loglikelihood_reference.json.

samples_lambada.jsonl, samples_choices.jsonl, samples_winogrande.jsonl and samples_truthfulqa_mc2.jsonl are the harness's
per-sample logs (lm_eval --log_samples) of the LAMBADA passages, the multiple-choice documents, the WINOGRANDE ones (a
multiple_input task) and the TRUTHFULQA_MC2 ones (scored by truthfulqa's own process_results_mc2, loaded from its utils.py) scored with a max_length of 64, and samples_rolling.jsonl of the
passages as a loglikelihood_rolling task's documents (wikitext's metrics, the words and bytes of each as the task's
default process_results counts them) scored with a max_length of 16 by HFLM.loglikelihood_rolling, transcribed below: each document's requests made by a
ConfigurableTask's construct_requests (a loglikelihood task of lambada_openai's templates; the multiple_choice one
below), scored by the TemplateLM below, process_results' metrics, the record evaluator.py's evaluate() builds for a
sample (transcribed), written by the harness's own EvaluationTracker.save_results_samples (which also needs pandas and
the datasets package imported: stood in for, as below).

The multiple_input documents (Winogrande's shape) go through the same task with multiple_input set, as its __init__
sets it where doc_to_text gives an int: the contexts construct_requests gets are the choices (what a zero-shot
multiple_input_context renders), and process_results takes doc_to_text as the gold.

The multiple-choice documents go through the harness's ConfigurableTask (lm_eval/api/task.py) of a multiple_choice
task whose doc_to_text, doc_to_choice and doc_to_target are the documents' fields: its construct_requests makes the
requests (context, target_delimiter + choice) and its process_results gives each document's acc and acc_norm. The
task is made without its __init__ (which would load a dataset), and three modules its file imports but these calls
do not use (datasets, sacrebleu, dill) are stood in for by empty ones.

The requests are made, split and tokenized by the harness's own code: its lambada_openai task's doc_to_text and
doc_to_target templates (lm_eval/tasks/lambada/lambada_openai.yaml, rendered by lm_eval.utils.apply_template) for
the LAMBADA passages, and TemplateLM.loglikelihood with its _encode_pair (lm_eval/api/model.py) for every request,
over a TemplateLM whose tok_encode is make_models.py's encoder of vocab.json and merges.txt (a GPT-2-style BPE that
adds no tokens) and whose prefix token is PREFIX. Its _loglikelihood_tokens is HFLM's for a causal LM, transcribed:
the input (context_enc + continuation_enc)[-(max_length + 1):][:-1], the last len(continuation_enc) log-probabilities
(log_softmax of window.onnx's float64 logits, make_models.window_logits), their sum and whether each argmax is the
continuation's token. LoglikelihoodTests runs `gpuinfo loglikelihood --model window.onnx` over the same requests
against it.

Made on 2026-12-07 from commit 4e7e0d47f33b of github.com/EleutherAI/lm-evaluation-harness (its lm_eval folder,
which needs jinja2, PyYAML, tqdm and requests to import, and numpy for make_models.py) with Debian's python3:

    python3 make_loglikelihood_reference.py /path/to/lm-evaluation-harness
"""
import importlib.util
import json
import os
import sys
import shutil
import subprocess
import tempfile
import types
from types import SimpleNamespace

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lmeval_checkout  # noqa: E402
import make_models  # noqa: E402

PREFIX = 7
MAX_LENGTHS = [16, 64]
PASSAGES = [
    "The model reads a window of tokens and predicts each next one",
    "Its surprise at the true text is the loss",
    "word",
    "two  spaces between",
    "ends with a space ",
    "With a stride smaller than the window, the windows overlap, and every token is scored once, with the context"
    " of the window before it. The text is read once, the windows run through the model",
    "Caf\u00e9 na\u00efve \u00fcber \u2014 bytes!",
]
CHOICES = [
    {"context": "The model reads a window of", "choices": ["tokens", "bytes and words", "x"], "gold": 0},
    {"context": "Perplexity is its", "choices": ["exponential", "logarithm", "\U0001F600 smile", "mean over all tokens"], "gold": 2},
    {"context": "Caf\u00e9", "choices": ["na\u00efve", "\u00fcber"], "gold": "\u00fcber"},
    {"context": "", "choices": ["one", "two words", "three words here"], "gold": 1},
]
# Winogrande's shape (a multiple_input task): each choice is a context, every one scored with the continuation; the gold an index.
MULTIPLE_INPUT = [
    {"choices": ["The trophy does not fit in the window because the trophy", "The trophy does not fit in the window because the window"], "continuation": "is too big.", "gold": 0},
    {"choices": ["Perplexity is its", "The loss is its", "A\u00efe \U0001F600 is its"], "continuation": "exponential.", "gold": 1},
]
# Winogrande's samples (lm_eval --log_samples of a multiple_input task reporting acc alone, as winogrande, xwinograd and
# wsc273 do): the log leaves the gold out (doc_to_text's index), so gpuinfo recovers it from the logged acc.
WINOGRANDE = [
    {"choices": ["The trophy does not fit in the window because the trophy", "The trophy does not fit in the window because the window"], "continuation": "is too big.", "gold": 0},
    {"choices": ["The model reads a window of tokens, and the tokens", "The model reads a window of tokens, and the window"], "continuation": "is scored once.", "gold": 1},
    {"choices": ["Caf\u00e9 na\u00efve", "Caf\u00e9 \u00fcber"], "continuation": "bytes!", "gold": 0},
    {"choices": ["Perplexity is its", "The loss is its"], "continuation": "exponential.", "gold": 1},
    {"choices": ["The text is read once and the", "The window is read once and the"], "continuation": "windows run through the model", "gold": 1},
]
# TruthfulQA's mc2 shape: several true choices, scored by truthfulqa_mc2's process_results_mc2 (the harness's own,
# lm_eval/tasks/truthfulqa/utils.py): the probability mass on the true choices, logged as its acc.
TRUTHFULQA_MC2 = [
    {"question": "Q: What does the model read?\nA:", "mc2_targets": {"choices": ["A window of tokens.", "Tokens.", "Bytes and words.", "Nothing."], "labels": [1, 1, 0, 0]}},
    {"question": "Q: What is perplexity?\nA:", "mc2_targets": {"choices": ["The exponential of the mean loss.", "Its exponential.", "A logarithm.", "The mean over all tokens.", "\U0001F600 smile."], "labels": [1, 1, 0, 0, 0]}},
    {"question": "Q: Caf\u00e9?\nA:", "mc2_targets": {"choices": ["Na\u00efve.", "\u00dcber."], "labels": [1, 0]}},
    {"question": "Q: How is the text read?\nA:", "mc2_targets": {"choices": ["Once.", "Once, in windows.", "Twice.", "In the model.", "Backwards.", "Not at all."], "labels": [1, 1, 1, 0, 0, 0]}},
]
PAIRS = [
    ("The model reads ", "a window"),
    ("", "tokens"),
    ("Perplexity is", " its exponential"),
    ("The text\n", "\nis read once"),
    ("A", "B"),
]


def load_harness(root):
    lmeval_checkout.use(root)
    from lm_eval import utils
    from lm_eval.api.model import TemplateLM
    return utils, TemplateLM


def load_task(TaskConfig, ConfigurableTask, output_type="multiple_choice", features=("context", "choices", "gold"), metrics=("acc", "acc_norm"), **templates):
    """A task over the documents' own fields (or the templates given), without the dataset its __init__ would load."""
    task = ConfigurableTask.__new__(ConfigurableTask)
    templates = templates or {"doc_to_text": "context", "doc_to_choice": "choices", "doc_to_target": "gold"}
    task._config = TaskConfig(task="choices" if output_type == "multiple_choice" else "lambada", output_type=output_type, target_delimiter=" ", **templates)
    task.OUTPUT_TYPE = output_type
    task.features = list(features)
    task.multiple_input = False
    task.multiple_target = False
    task.prompt = None
    task._metric_fn_list = {m: None for m in metrics}
    return task


def sample(task, doc_id, doc, lm, filters=None):
    """A document scored as evaluate() scores it, and the record it logs of it under each filter (evaluator.py,
    transcribed; without filters, the "none" filter's take_first)."""
    # A zero-shot multiple_input task's contexts are its choices (multiple_input_context renders them so).
    contexts = task.doc_to_choice(doc) if task.multiple_input else task.doc_to_text(doc)
    requests = task.construct_requests(doc, ctx=contexts, metadata=(task.config.task, doc_id, 1))
    requests = requests if isinstance(requests, list) else [requests]
    for request, response in zip(requests, getattr(lm, requests[0].request_type)(requests, disable_tqdm=True)):
        request.resps.append(response)
        if filters is None:
            request.filtered_resps["none"] = response
    for ensemble in filters or []:
        ensemble.apply(requests)
    examples = []
    for key in requests[0].filtered_resps:
        metrics = task.process_results(doc, [request.filtered_resps[key] for request in requests])
        target = task.doc_to_target(doc)
        example = {
            "doc_id": doc_id,
            "doc": doc,
            "target": target,
            "arguments": [request.args for request in requests],
            "resps": [request.resps for request in requests],
            "filtered_resps": [request.filtered_resps[key] for request in requests],
            "filter": key,
            "metrics": list(metrics.keys()),
        }
        example.update(metrics)
        examples.append(example)
    return examples


def judge(task, docs, lm, contexts):
    """Each document's requests (construct_requests over the contexts given), their scores and process_results' acc and acc_norm."""
    documents = []
    for doc in docs:
        requests = task.construct_requests(doc, ctx=contexts(doc), metadata=(task.config.task, 0, 1))
        scored = lm.loglikelihood(requests, disable_tqdm=True)
        metrics = task.process_results(doc, scored)
        documents.append({"loglikelihoods": [ll for ll, _ in scored], "is_greedy": [g for _, g in scored],
                          "acc": metrics["acc"], "acc_norm": metrics["acc_norm"]})
    return documents


def write_samples(lm, tasks, filters=None):
    """Each task's samples as the harness's EvaluationTracker writes them, beside this script: every document under
    the first filter, then every one under the next, as evaluate() logs them."""
    from lm_eval.loggers.evaluation_tracker import EvaluationTracker
    with tempfile.TemporaryDirectory() as folder:
        tracker = EvaluationTracker(output_path=folder)
        tracker.date_id = "fixed"
        tracker.general_config_tracker.model_name_sanitized = "window"
        for name, task, docs in tasks:
            per_document = [sample(task, i, doc, lm, filters) for i, doc in enumerate(docs)]
            logged = [examples[f] for f in range(len(per_document[0])) for examples in per_document]
            if name in LEGACY:
                write_legacy_samples(name, logged)
            tracker.save_results_samples(name, logged)
            shutil.copy(os.path.join(folder, "window", f"samples_{name}_fixed.jsonl"), os.path.join(HERE, f"samples_{name}.jsonl"))


# The tasks whose samples are also written as lm-evaluation-harness 0.4.0-0.4.2 logged them (legacy/).
LEGACY = {"choices", "lambada", "rolling", "winogrande", "paired_base_choices", "paired_test_choices", "paired_base_gsm8k", "paired_test_gsm8k"}


def write_legacy_samples(name, logged):
    """A task's samples as lm-evaluation-harness 0.4.0-0.4.2's __main__.py wrote them (v0.4.2, transcribed: one
    json.dumps of the task's list, indent=2, to {model_args}_{task}.jsonl) of the records its evaluate() logged, which
    held neither "filter" nor "metrics" (nor 0.4.3's hashes): legacy/pretrained__window_NAME.jsonl."""
    from lm_eval.utils import handle_non_serializable
    records = [{k: v for k, v in example.items() if k not in ("filter", "metrics")} for example in logged]
    os.makedirs(os.path.join(HERE, "legacy"), exist_ok=True)
    with open(os.path.join(HERE, "legacy", f"pretrained__window_{name}.jsonl"), "w", encoding="utf-8") as f:
        f.write(json.dumps(records, indent=2, default=handle_non_serializable, ensure_ascii=False))


def bootstrap_reference(results):
    """The harness's bootstrap_stderr of its perplexity aggregation (lambada's perplexity_stderr), run as evaluate() runs
    it (100000 iterations, a process pool), over each max_length's LAMBADA log-likelihoods and over drawn values with
    other counts of iterations; and random.Random(seed)'s first random() values and choices() indices, which it draws."""
    import random
    from lm_eval.api import metrics
    os.environ.pop("DISABLE_MULTIPROC", None)
    drawn = np.random.default_rng(20261207)
    cases = [{"values": [r["loglikelihood"] for r in results[f"lambada/{m}"]], "iterations": 100000, "name": f"lambada/{m}"} for m in MAX_LENGTHS]
    cases += [{"values": [float(v) for v in -drawn.gamma(2.0, 3.0, size=n)], "iterations": iters, "name": f"drawn/{n}/{iters}"}
              for n, iters in ((2, 100000), (37, 2500), (250, 999), (1000, 20000))]
    for case in cases:
        case["perplexity"] = metrics.perplexity(case["values"])
        case["perplexity_stderr"] = metrics.bootstrap_stderr(metrics.perplexity, case["values"], case["iterations"])
    draws = []
    for seed in (0, 1, 99, 12345, 2**32 + 7):
        rnd = random.Random(seed)
        doubles = [rnd.random() for _ in range(700)]
        rnd = random.Random(seed)
        draws.append({"seed": seed, "draws": 700, "random": doubles[:5] + doubles[-3:], "choices_of_5153": rnd.choices(range(5153), k=10)})
    return {"cases": cases, "python_random": draws}


def logged_task_metrics(name):
    """A samples file's task metrics as the harness aggregates them (evaluator_utils._compute_task_aggregations' two
    calls, mean and stderr_for_metric's mean_stderr, over its logged acc and acc_norm: that module needs a newer
    typing_extensions than Debian's)."""
    from lm_eval.api.metrics import mean, stderr_for_metric
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        logged = [json.loads(line) for line in f]
    metrics = {"sample_len": len(logged)}
    for m in ("acc", "acc_norm"):
        items = [float(d[m]) for d in logged]
        metrics[f"{m},none"] = mean(items)
        metrics[f"{m}_stderr,none"] = stderr_for_metric(metric=mean, bootstrap_iters=100000)(items)
    return metrics


def group_reference(TaskConfig, ConfigurableTask):
    """A run of two tasks' files as one group (MMLU's subjects): the harness's per-task aggregation of each file's
    logged acc and acc_norm (logged_task_metrics) and its group's aggregation over them, weighted by size as MMLU's
    group is (Group.aggregate over its leaf tasks). The files, in the group's order: the paired choices runs, test then
    base."""
    from lm_eval.api.group import Group
    from lm_eval.config.group import AggMetricConfig
    files = ["samples_paired_test_choices.jsonl", "samples_paired_base_choices.jsonl"]
    group = Group("group", aggregate_metric_list=[AggMetricConfig(metric="acc", weight_by_size=True), AggMetricConfig(metric="acc_norm", weight_by_size=True)])
    task_metrics = {}
    for i, name in enumerate(files):
        task = load_task(TaskConfig, ConfigurableTask)
        task._config.task = f"task_{i}"
        task_metrics[task.task_name] = logged_task_metrics(name)
        group.add(task)
    aggregated = group.aggregate(task_metrics)
    return {"files": files, "tasks": task_metrics, "group": {k: v for k, v in aggregated.items() if k not in ("alias", "name")}}


def llama_cpp_reference(lm, words):
    """llama.cpp's HellaSwag and multiple-choice scores (tools/perplexity/perplexity.cpp's hellaswag_score and
    multiple_choice_score, transcribed) of window.onnx in float64 over drawn tasks, written in its file layouts:
    hellaswag.txt (6 lines a task) and multiple_choice.bin (its binary tasks: a count, offsets, then each task's
    question, mc1 answers and labels, mc2 answers and labels). Each answer is the tokens of question + " " + answer (this
    BPE adds no BOS), scored from the task's sequences' common prefix to the end, the mean log-probability per token;
    the prediction the first largest; HellaSwag's acc_norm and Wilson interval, multiple choice's acc ± sqrt(p (1 - p) /
    (n - 1)) and random chance. The tasks a count scores are the ones llama_select.cpp draws (std::mt19937(1), with
    libstdc++'s uniform_int_distribution for HellaSwag, llama.cpp's float scaling for multiple choice; built here with g++)."""
    import struct
    drawn = np.random.default_rng(20261209)

    def sentence(n):
        return " ".join(drawn.choice(words, size=n))

    hellaswag = []
    for _ in range(10):
        gold = int(drawn.integers(4))
        hellaswag.append({"question": sentence(drawn.integers(4, 12)), "answers": [sentence(drawn.integers(2, 7)) for _ in range(4)], "correct": [e == gold for e in range(4)]})
    with open(os.path.join(HERE, "hellaswag.txt"), "w", encoding="utf-8", newline="\n") as f:
        for t in hellaswag:
            f.write("\n".join([t["question"], str(t["correct"].index(True)), *t["answers"]]) + "\n")
    choices = []
    for _ in range(12):
        n = int(drawn.integers(2, 6))
        gold = int(drawn.integers(n))
        choices.append({"question": "Question: " + sentence(drawn.integers(3, 8)) + "\nAnswer:", "answers": [sentence(drawn.integers(1, 4)) for _ in range(n)], "correct": [a == gold for a in range(n)],
                        "mc2": [sentence(drawn.integers(1, 3)) for _ in range(int(drawn.integers(0, 3)))]})

    def text(s):
        b = s.encode("utf-8")
        return struct.pack("<I", len(b)) + b

    def answers(items, labels):
        return struct.pack("<I", len(items)) + b"".join(text(a) for a in items) + struct.pack(f"<{len(labels)}i", *labels)

    bodies = [text(t["question"]) + answers(t["answers"], [int(c) for c in t["correct"]]) + answers(t["mc2"], [1] * len(t["mc2"])) for t in choices]
    offsets, at = [], 4 + 4 * len(bodies)
    for body in bodies:
        offsets.append(at)
        at += len(body)
    with open(os.path.join(HERE, "multiple_choice.bin"), "wb") as f:
        f.write(struct.pack("<I", len(bodies)) + struct.pack(f"<{len(offsets)}I", *offsets) + b"".join(bodies))

    for t in hellaswag + choices:
        sequences = [lm.tok_encode(t["question"] + " " + a) for a in t["answers"]]
        common = 0
        while all(common < len(s) and s[common] == sequences[0][common] for s in sequences):
            common += 1
        assert 0 < common < min(len(s) for s in sequences) and max(len(s) for s in sequences) - 1 <= lm.max_length  # scored whole, as llama.cpp scores them
        t["mean_logprobs"] = [lm._loglikelihood_tokens([(None, s[:common], s[common:])])[0][0] / (len(s) - common) for s in sequences]
        best = 0
        for a in range(1, len(sequences)):
            if t["mean_logprobs"][a] > t["mean_logprobs"][best]:
                best = a
        t["prediction"] = best

    def wilson(chosen):
        n, right = len(chosen), sum(hellaswag[i]["correct"][hellaswag[i]["prediction"]] for i in chosen)
        za = 1.95996398454
        freq, z = right / n, za * za / n
        cnf = z * np.sqrt(n * (4.0 * freq * (1 - freq) + z)) / (za + za)
        return {"selected": chosen, "acc_norm": freq, "ci_low": (freq + z * 0.5 - cnf) / (1.0 + z), "ci_high": (freq + z * 0.5 + cnf) / (1.0 + z)}

    def final(chosen):
        n, right = len(chosen), sum(choices[i]["correct"][choices[i]["prediction"]] for i in chosen)
        p, q = right / n, n / sum(len(choices[i]["answers"]) for i in chosen)
        return {"selected": chosen, "acc": p, "acc_stderr": float(np.sqrt(p * (1 - p) / (n - 1))), "random_chance": q, "random_chance_stderr": float(np.sqrt(q * (1 - q) / (n - 1)))}

    with tempfile.TemporaryDirectory() as folder:
        program = os.path.join(folder, "select")
        subprocess.run(["g++", "-O2", "-std=c++17", "-o", program, os.path.join(HERE, "llama_select.cpp")], check=True)

        def select(mode, total, n):
            return [int(i) for i in subprocess.run([program, mode, str(total), str(n)], capture_output=True, text=True, check=True).stdout.split()]

        winogrande = winogrande_reference(lm, drawn, sentence)

        def winogrande_final(chosen):
            n, right = len(chosen), sum(winogrande["tasks"][i]["prediction"] == winogrande["tasks"][i]["answer"] for i in chosen)
            return {"selected": chosen, "acc": right / n, "acc_stderr": float(np.sqrt(right / n * (1 - right / n) / (n - 1)))}

        count = len(winogrande["tasks"])
        winogrande.update({"all": winogrande_final(list(range(count))), "first_7": winogrande_final(select("multiple-choice", count, 7))})
        result = {"hellaswag": {"tasks": hellaswag, "all": wilson(select("hellaswag", 10, 10)), "first_4": wilson(select("hellaswag", 10, 4))},
                  "multiple_choice": {"tasks": choices, "all": final(list(range(12))), "first_5": final(select("multiple-choice", 12, 5))},
                  "winogrande": winogrande,
                  "draws": {f"{mode}/{total}/{n}": select(mode, total, n) for mode, total, n in
                            (("hellaswag", 10042, 400), ("hellaswag", 3, 3), ("hellaswag", 1000, 999), ("multiple-choice", 10042, 400), ("multiple-choice", 1000, 999))}}
    return result


def winogrande_reference(lm, drawn, sentence):
    """llama.cpp's Winogrande score (perplexity.cpp's load_winogrande_from_csv and winogrande_score, transcribed) of
    window.onnx in float64 over drawn tasks written as its CSV (winogrande.csv: a header, a quoted sentence with a
    comma, blanks mid-sentence, where the choice is left out of the score, and at the end, where it is not). As llama.cpp
    reads the file: its -f drops the final line break, and its line loop stops at a line without one, so the last line
    is not read. Each task's logits laid out as its batch lays them out (the common prefix's last position, then each
    sentence's positions from the common prefix) and its eval pairs indexed into them as it indexes, the second
    sentence's first logits when the choice is not skipped (its FIXME) included."""
    names = ["Sarah", "Maria", "the model", "the window", "John", "Joan"]
    rows = []
    for i in range(14):
        a, b = (str(x) for x in drawn.choice(names, size=2, replace=False))
        tail = "." if i % 3 == 0 else " " + sentence(drawn.integers(4, 9)) + "."
        text = sentence(drawn.integers(3, 9)) + (", " if i == 4 else " ") + "_" + tail
        rows.append({"sentence": text, "choices": [a, b], "answer": int(drawn.integers(1, 3))})
    lines = ["index,sentence,option1,option2,answer"]
    for i, r in enumerate(rows):
        quoted = f'"{r["sentence"]}"' if "," in r["sentence"] else r["sentence"]
        lines.append(f'{i},{quoted},{r["choices"][0]},{r["choices"][1]},{r["answer"]}')
    content = "\n".join(lines) + "\n"
    with open(os.path.join(HERE, "winogrande.csv"), "w", encoding="utf-8", newline="\n") as f:
        f.write(content)

    prompt = content[:-1] if content.endswith("\n") else content
    tasks = []
    for line in prompt.split("\n")[:-1]:  # std::getline: the unterminated last line sets eof and is not read
        commas, quote = [], False
        for i, ch in enumerate(line):
            if not quote:
                if ch == ",":
                    commas.append(i)
                    if len(commas) == 4:
                        break
                elif ch == '"':
                    quote = True
            elif ch == '"':
                quote = False
        answer = line[commas[3] + 1:]
        if not answer.strip().isdigit():
            continue  # the header, which llama.cpp logs and skips
        sentence_text = line[commas[0] + 2:commas[1] - 1] if line[commas[0] + 1] == '"' else line[commas[0] + 1:commas[1]]
        where = sentence_text.index("_")
        tasks.append({"first": sentence_text[:where], "second": sentence_text[where + 1:],
                      "choices": [line[commas[1] + 1:commas[2]], line[commas[2] + 1:commas[3]]], "answer": int(answer)})

    for t in tasks:
        seq = [lm.tok_encode(t["first"] + c + t["second"]) for c in t["choices"]]
        common = 0
        while seq[0][common] == seq[1][common]:
            common += 1
        n_base = [len(lm.tok_encode(t["first"] + c)) for c in t["choices"]]
        assert 0 < common < min(len(s) for s in seq) and max(len(s) for s in seq) <= lm.max_length
        logp = [make_models.log_softmax(make_models.window_logits(np.array(s))) for s in seq]
        batch = [logp[0][common - 1]] + [logp[0][i] for i in range(common, len(seq[0]))] + [logp[1][i] for i in range(common, len(seq[1]))]
        skip = len(seq[0]) - common > 3 and len(seq[1]) - common > 3
        scores = []
        for s in range(2):
            base = n_base[s] if skip else common
            last = 1 if len(seq[s]) - base > 1 else 0
            li = base - common if s == 0 else len(seq[0]) - common + base - common
            assert li >= 0
            total = 0.0
            for j in range(base - 1, len(seq[s]) - 1 - last):
                total += batch[li][seq[s][j + 1]]
                li += 1
            scores.append(total / (len(seq[s]) - base - last))
        t.update({"tokens": seq, "common_prefix": common, "choice_skipped": skip, "mean_logprobs": scores, "prediction": 1 if scores[0] > scores[1] else 2})
    assert any(t["choice_skipped"] for t in tasks) and not all(t["choice_skipped"] for t in tasks)
    return {"tasks": tasks, "lines": len(lines)}


def named_groups_reference(root, TaskConfig, ConfigurableTask):
    """Two of the harness's own groups, their tasks and aggregate_metric_list read from their yaml
    (include_base_44_hebrew: acc by size; bhs_hindi: acc, tasks weighted equally), over samples files named as its
    leaf tasks, each test run's file
    and base run's file one of the paired choices runs or the WindowLM choices samples in turn: Group.aggregate of each
    run's leaf tasks' logged metrics (mean and mean_stderr per task)."""
    sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "scripts"))
    import make_harness_aggregations
    from lm_eval.api.group import Group
    from lm_eval.config.group import AggMetricConfig
    sources = [("samples_paired_test_choices.jsonl", "samples_paired_base_choices.jsonl"),
               ("samples_paired_base_choices.jsonl", "samples_paired_test_choices.jsonl"),
               ("samples_choices.jsonl", "samples_choices.jsonl")]
    result = {}
    for name, yaml_path in (("include_base_44_hebrew", "include/default/Hebrew/_include_base_44_hebrew.yaml"), ("bhs_hindi", "bhs/bhs_hindi.yaml")):
        doc = make_harness_aggregations.load_yaml(os.path.join(root, "lm_eval", "tasks", yaml_path))
        config = [AggMetricConfig(**{k: v for k, v in a.items() if k in ("metric", "aggregation", "weight_by_size", "filter_list")}) for a in doc["aggregate_metric_list"]]
        entry = {"leaves": [], "test_files": [], "base_files": []}
        for run in ("test", "base"):
            group = Group(name, aggregate_metric_list=config)
            task_metrics = {}
            leaves = []
            for item in doc["task"]:
                leaves.append(item if isinstance(item, str) else item["task"])
            for k, leaf in enumerate(leaves):
                source = sources[k % len(sources)][0 if run == "test" else 1]
                task = load_task(TaskConfig, ConfigurableTask)
                task._config.task = leaf
                task_metrics[leaf] = logged_task_metrics(source)
                group.add(task)
                entry[f"{run}_files"].append(source)
            entry["leaves"] = leaves
            entry[run] = {k: v for k, v in group.aggregate(task_metrics).items() if k not in ("alias", "name")}
        result[name] = entry
    return result


def import_task_module():
    for name in ("datasets", "datasets.utils", "datasets.utils.metadata", "sacrebleu", "dill", "pandas"):
        if name not in sys.modules:
            stand_in = types.ModuleType(name)
            stand_in.__version__ = "4.0.0"
            stand_in.__path__ = []
            stand_in.Dataset = stand_in.DatasetDict = stand_in.MetadataConfigs = stand_in.DataFrame = object
            stand_in.load_dataset = None
            sys.modules[name] = stand_in
    from lm_eval.api.task import ConfigurableTask
    from lm_eval.config.task import TaskConfig
    return TaskConfig, ConfigurableTask


def bpe_lm(TemplateLM, vocab, merges):
    """A TemplateLM of make_models.py's encoder of vocab.json and merges.txt (a GPT-2-style BPE that adds no tokens),
    prefix token PREFIX: the base of the models below."""
    class BpeLM(TemplateLM):
        @property
        def eot_token_id(self):
            return PREFIX

        def tok_encode(self, string, add_special_tokens=None, **kwargs):
            return make_models.encode(string, vocab, merges)

        def generate_until(self, requests, disable_tqdm=False):
            raise NotImplementedError

    return BpeLM


def drawn_lm(BpeLM, seed):
    """A model whose scores are drawn from a seeded generator (a request's log-likelihood, whether it is greedy; a
    document's rolling log-likelihood; a GSM8K-shaped answer): two seeds are two models of one task, for compare-samples."""
    class Drawn(BpeLM):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)

        def _loglikelihood_tokens(self, requests, disable_tqdm=False, **kwargs):
            return [(float(-self.rng.gamma(2.0, 3.0)), bool(self.rng.random() < 0.4)) for _ in requests]

        def loglikelihood_rolling(self, requests, disable_tqdm=False):
            return [float(-self.rng.gamma(20.0, 5.0)) for _ in requests]

        def generate_until(self, requests, disable_tqdm=False):
            # The right number after "#### ", the right number in other words (only the flexible-extract filter finds
            # it), or a wrong one.
            answers = []
            for request in requests:
                gold = request.doc["answer"].split("#### ")[-1]
                draw = self.rng.random()
                answers.append(f"So it is {gold}.\n#### {gold}" if draw < 0.45 else f"The answer is {gold}." if draw < 0.65
                               else f"It is {int(gold) + 1}.\n#### {int(gold) + 1}")
            return answers

    return Drawn()


def truthfulqa_utils(root):
    """lm_eval/tasks/truthfulqa/utils.py, loaded by path; the scorers it imports for its generation task stood in for."""
    for name in ("rouge_score", "rouge_score.rouge_scorer", "rouge_score.scoring"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["rouge_score"].rouge_scorer = sys.modules["rouge_score.rouge_scorer"]
    sys.modules["rouge_score"].scoring = sys.modules["rouge_score.scoring"]
    spec = importlib.util.spec_from_file_location("truthfulqa_utils", os.path.join(root, "lm_eval", "tasks", "truthfulqa", "utils.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    root = sys.argv[1]
    utils, TemplateLM = load_harness(root)
    TaskConfig, ConfigurableTask = import_task_module()
    choice_task = load_task(TaskConfig, ConfigurableTask)
    import yaml
    with open(os.path.join(root, "lm_eval", "tasks", "lambada", "lambada_openai.yaml")) as f:
        task = yaml.safe_load(f)
    with open(os.path.join(HERE, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(HERE, "merges.txt"), encoding="utf-8") as f:
        merges = [tuple(line.rstrip("\n").split(" ")) for line in f.readlines()[1:]]

    BpeLM = bpe_lm(TemplateLM, vocab, merges)

    class WindowLM(BpeLM):
        def __init__(self, max_length):
            super().__init__()
            self.max_length = max_length

        def _loglikelihood_tokens(self, requests, disable_tqdm=False, **kwargs):
            results = []
            for _, context_enc, continuation_enc in requests:
                assert len(context_enc) > 0 and 0 < len(continuation_enc) <= self.max_length
                inp = (context_enc + continuation_enc)[-(self.max_length + 1):][:-1]
                logp = make_models.log_softmax(make_models.window_logits(np.array(inp)))
                cont = logp[len(inp) - len(continuation_enc):len(inp)]
                ll = float(cont[np.arange(len(continuation_enc)), continuation_enc].sum())
                greedy = bool((cont.argmax(axis=-1) == np.array(continuation_enc)).all())
                results.append((ll, greedy))
            return results

        def loglikelihood_rolling(self, requests, disable_tqdm=False):
            # HFLM.loglikelihood_rolling, transcribed: each text's disjoint rolling windows, scored as requests, summed.
            results = []
            for (string,) in [request.args for request in requests]:
                windows = list(map(utils.make_disjoint_window, utils.get_rolling_token_windows(
                    token_list=self.tok_encode(string), prefix_token=self.prefix_token_id, max_seq_len=self.max_length, context_len=1)))
                results.append(sum(ll for ll, _ in self._loglikelihood_tokens([(None,) + w for w in windows])))
            return results

    lambada = [(utils.apply_template(task["doc_to_text"], {"text": p}), utils.apply_template(task["doc_to_target"], {"text": p})) for p in PASSAGES]
    reference = {"prefix": PREFIX, "passages": PASSAGES, "pairs": PAIRS, "choices": CHOICES, "multiple_input": MULTIPLE_INPUT, "lambada_requests": lambada, "results": {}}
    multiple = load_task(TaskConfig, ConfigurableTask, features=("choices", "continuation", "gold"),
                         doc_to_text="gold", doc_to_choice="choices", doc_to_target="continuation")
    multiple.multiple_input = True
    for max_length in MAX_LENGTHS:
        lm = WindowLM(max_length)
        for name, requests in (("lambada", lambada), ("pairs", PAIRS)):
            scored = lm.loglikelihood([SimpleNamespace(args=r) for r in requests], disable_tqdm=True)
            reference["results"][f"{name}/{max_length}"] = [{"loglikelihood": ll, "is_greedy": g} for ll, g in scored]
        reference["results"][f"choices/{max_length}"] = judge(choice_task, CHOICES, lm, choice_task.doc_to_text)
        reference["results"][f"multiple_input/{max_length}"] = judge(multiple, MULTIPLE_INPUT, lm, multiple.doc_to_choice)
    reference["bootstrap"] = bootstrap_reference(reference["results"])
    lambada_task = load_task(TaskConfig, ConfigurableTask, "loglikelihood", ("text",), ("perplexity", "acc"),
                             doc_to_text=task["doc_to_text"], doc_to_target=task["doc_to_target"])
    winogrande = load_task(TaskConfig, ConfigurableTask, features=("choices", "continuation", "gold"), metrics=("acc",),
                           doc_to_text="gold", doc_to_choice="choices", doc_to_target="continuation")
    winogrande.multiple_input = True
    mc2 = load_task(TaskConfig, ConfigurableTask, features=("question", "mc2_targets"), metrics=("acc",),
                    doc_to_text="question", doc_to_choice="{{mc2_targets.choices}}", doc_to_target=0,
                    process_results=truthfulqa_utils(root).process_results_mc2)
    write_samples(WindowLM(64), [("lambada", lambada_task, [{"text": p} for p in PASSAGES]), ("choices", choice_task, CHOICES), ("winogrande", winogrande, WINOGRANDE),
                                 ("truthfulqa_mc2", mc2, TRUTHFULQA_MC2)])
    # A loglikelihood_rolling task (wikitext's metrics) over the passages, as documents of several 16-token windows.
    rolling_task = load_task(TaskConfig, ConfigurableTask, "loglikelihood_rolling", ("text",), ("word_perplexity", "byte_perplexity", "bits_per_byte"),
                             doc_to_text="", doc_to_target="{{text}}")
    write_samples(WindowLM(16), [("rolling", rolling_task, [{"text": p} for p in PASSAGES if p.strip()])])
    # Two runs ("base" and "test") of three tasks over the same 60 documents by two models whose scores are drawn from
    # seeded generators: what compare-samples compares (flips, paired differences), the metrics the harness's own.
    drawn = np.random.default_rng(20261208)
    words = " ".join(PASSAGES).split()

    def sentence(n):
        return " ".join(drawn.choice(words, size=n))

    documents = [{"context": sentence(drawn.integers(3, 12)), "choices": [sentence(drawn.integers(1, 4)) for _ in range(drawn.integers(2, 5))]} for _ in range(60)]
    for d in documents:
        d["gold"] = int(drawn.integers(len(d["choices"])))
    passages = [{"text": sentence(drawn.integers(4, 20))} for _ in range(60)]
    for run, seed in (("base", 1), ("test", 2)):
        write_samples(drawn_lm(BpeLM, seed), [(f"paired_{run}_choices", choice_task, documents), (f"paired_{run}_lambada", lambada_task, passages),
                                              (f"paired_{run}_rolling", rolling_task, passages)])
    # GSM8K's task (a generate_until task: its yaml's templates, exact_match settings and both filters) over drawn
    # questions, answered by two drawn models: compare-samples compares the metrics the harness logged.
    with open(os.path.join(root, "lm_eval", "tasks", "gsm8k", "gsm8k.yaml")) as f:
        gsm8k = yaml.safe_load(f)
    from lm_eval.api.registry import get_metric
    from lm_eval.filters import build_filter_ensemble
    gsm8k_task = load_task(TaskConfig, ConfigurableTask, "generate_until", ("question", "answer"), ("exact_match",),
                           doc_to_text=gsm8k["doc_to_text"], doc_to_target=gsm8k["doc_to_target"], generation_kwargs=gsm8k["generation_kwargs"])
    exact_match = next(m for m in gsm8k["metric_list"] if m["metric"] == "exact_match")
    gsm8k_task._metric_fn_list = {"exact_match": get_metric("exact_match")}
    gsm8k_task._metric_fn_kwargs = {"exact_match": {k: v for k, v in exact_match.items() if k not in ("metric", "aggregation", "higher_is_better")}}
    gsm8k_task._aggregation_list, gsm8k_task._higher_is_better = {"exact_match": "mean"}, {"exact_match": True}
    filters = [build_filter_ensemble(f["name"], [(c["function"], {k: v for k, v in c.items() if k != "function"}) for c in f["filter"]]) for f in gsm8k["filter_list"]]
    questions = [{"question": sentence(drawn.integers(5, 15)) + "?", "answer": f"{sentence(drawn.integers(3, 8))}\n#### {int(drawn.integers(1, 500))}"} for _ in range(60)]
    for run, seed in (("base", 3), ("test", 4)):
        write_samples(drawn_lm(BpeLM, seed), [(f"paired_{run}_gsm8k", gsm8k_task, questions)], filters)
    # A GLUE-shaped task of two choices whose samples name acc_bytes, f1 and mcc (mrpc's f1, cola's mcc, global_piqa's
    # acc_bytes), two drawn models' runs; the harness's own aggregations of them (scikit-learn's f1_score and
    # matthews_corrcoef) and its bootstrap_stderr of each over 2000 resamples, for each run.
    glue_task = load_task(TaskConfig, ConfigurableTask, metrics=("acc", "acc_bytes", "f1", "mcc"))
    pairs_docs = [{"context": sentence(drawn.integers(3, 12)), "choices": [sentence(drawn.integers(1, 3)), sentence(drawn.integers(1, 3))], "gold": int(drawn.integers(2))} for _ in range(80)]
    from lm_eval.api import metrics as harness_metrics
    reference["glue"] = {"iterations": 2000}
    for run, seed in (("base", 5), ("test", 6)):
        write_samples(drawn_lm(BpeLM, seed), [(f"paired_{run}_glue", glue_task, pairs_docs)])
        with open(os.path.join(HERE, f"samples_paired_{run}_glue.jsonl"), encoding="utf-8") as f:
            logged = [json.loads(line) for line in f]
        figures = {"acc_bytes": float(np.mean([d["acc_bytes"] for d in logged]))}
        for metric, aggregate in (("f1", harness_metrics.f1_score), ("mcc", harness_metrics.matthews_corrcoef)):
            items = [tuple(d[metric]) for d in logged]
            figures[metric] = float(aggregate(items))
            figures[f"{metric}_stderr"] = float(harness_metrics.bootstrap_stderr(aggregate, items, 2000))
        reference["glue"][run] = figures
    reference["llama_cpp"] = llama_cpp_reference(WindowLM(64), words)
    reference["group"] = group_reference(TaskConfig, ConfigurableTask)
    reference["named_groups"] = named_groups_reference(root, TaskConfig, ConfigurableTask)
    with open(os.path.join(HERE, "loglikelihood_reference.json"), "w", encoding="utf-8") as f:
        json.dump(reference, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
