"""An MMLU-sized lm-evaluation-harness samples file (synthetic): 14,042 four-choice documents, each context five
few-shot examples and a question (about 3,200 tokens of the tests' BPE), the harness's logged scores random.
Writes /tmp/mmlu_like.jsonl (80 MB)."""
import json
import random

random.seed(1)
words = "the model reads a window of tokens and scores each one once perplexity is its exponential loss text bytes words".split()


def sent(n):
    return " ".join(random.choice(words) for _ in range(n))


fewshot = "\n\n".join(sent(30) + "\nAnswer: " + random.choice("ABCD") for _ in range(5))
with open("/tmp/mmlu_like.jsonl", "w") as f:
    for d in range(14042):
        ctx = fewshot + "\n\n" + sent(40) + "\nA. " + sent(5) + "\nB. " + sent(5) + "\nC. " + sent(5) + "\nD. " + sent(5) + "\nAnswer:"
        gold = random.randrange(4)
        lls = [-random.random() * 5 for _ in range(4)]
        pred = max(range(4), key=lambda i: lls[i])
        line = {"doc_id": d, "doc": {}, "target": str(gold),
                "arguments": {f"gen_args_{i}": {"arg_0": ctx, "arg_1": " " + c} for i, c in enumerate("ABCD")},
                "resps": [[[repr(ll), "False"]] for ll in lls], "filtered_resps": [[repr(ll), "False"] for ll in lls],
                "filter": "none", "metrics": ["acc", "acc_norm"], "acc": 1.0 if pred == gold else 0.0}
        line["acc_norm"] = line["acc"]  # every choice one character long: the same prediction
        f.write(json.dumps(line) + "\n")
