"""lm-evaluation-harness's loglikelihood_rolling of the two tiny models of make_optimum_exports.py, in
float64, with that harness's own window functions: the "rolling" entry of reference.json.

The ids of ids.npy are cut into three documents (DOCUMENTS: a long one, one shorter than any window,
and one longer than two windows), each scored on its own with PREFIX before it, as lm-evaluation-
harness's HFLM scores a document: utils.get_rolling_token_windows(token_list=doc, prefix_token=PREFIX,
max_seq_len=max_length, context_len=1) through utils.make_disjoint_window, each window's model input
(context + continuation)[-(max_length + 1):][:-1] and its last len(continuation) log-probabilities
(HFLM._loglikelihood_tokens and _select_cont_toks). OptimumExportTests runs `gpuinfo perplexity
--protocol rolling` over the ONNX exports against it.

Run with the environment make_optimum_exports.py describes (its models saved under ROOT), and the
path of lm-evaluation-harness's lm_eval/utils.py (made on 2026-12-06 from commit 4e7e0d47f33b of
github.com/EleutherAI/lm-evaluation-harness, which needs jinja2, PyYAML and requests to import):

    python make_rolling_reference.py /path/to/lm_eval/utils.py
"""
import importlib.util
import json
import os
import sys

import numpy as np
import torch
from transformers import GPT2LMHeadModel, LlamaForCausalLM

from make_optimum_exports import ROOT, exact_rotary_f64

DOCUMENTS = [(0, 90), (90, 97), (97, 300)]
PREFIX = 999
MAX_LENGTHS = [64, 100]
HERE = os.path.dirname(os.path.abspath(__file__))


def load_utils(path):
    spec = importlib.util.spec_from_file_location("lm_eval_utils", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rolling_nll(utils, model, doc, max_length):
    windows = map(utils.make_disjoint_window, utils.get_rolling_token_windows(
        token_list=doc, prefix_token=PREFIX, max_seq_len=max_length, context_len=1))
    total, count = 0.0, 0
    for context_enc, continuation_enc in windows:
        inp = (context_enc + continuation_enc)[-(max_length + 1):][:-1]
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor(inp, dtype=torch.long)[None]).logits[0].double(), dim=-1)
        cont = logp[len(inp) - len(continuation_enc):len(inp)]
        total -= float(cont[torch.arange(len(continuation_enc)), torch.tensor(continuation_enc)].sum())
        count += len(continuation_enc)
    return total, count


def main():
    utils = load_utils(sys.argv[1])
    ids = np.load(os.path.join(HERE, "ids.npy")).tolist()
    with open(os.path.join(HERE, "reference.json")) as f:
        reference = json.load(f)
    rolling = {"documents": DOCUMENTS, "prefix_token": PREFIX}
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # as make_optimum_exports.py: the causal mask's finfo.min
    try:
        for name, cls in (("gpt2", GPT2LMHeadModel), ("llama_gqa", LlamaForCausalLM)):
            model = cls.from_pretrained(f"{ROOT}/{name}_hf").double().eval()
            if name.startswith("llama"):
                exact_rotary_f64(model)
            rolling[name] = {}
            for max_length in MAX_LENGTHS:
                total, count = 0.0, 0
                for begin, end in DOCUMENTS:
                    t, c = rolling_nll(utils, model, ids[begin:end], max_length)
                    total, count = total + t, count + c
                rolling[name][str(max_length)] = {"nll_sum": total, "scored": count, "mean_nll": total / count}
                print(f"{name} max_length {max_length}: {count} tokens, nll_sum {total!r}")
    finally:
        torch.set_default_dtype(old)
    reference["rolling"] = rolling
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(reference, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
