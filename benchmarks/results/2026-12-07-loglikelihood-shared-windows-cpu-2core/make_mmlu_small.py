"""300 MMLU-shaped multiple-choice documents (synthetic): a five-shot context of about 390 gpt2 tokens, choices
"A" to "D" (one token each after the target delimiter " "), as loglikelihood --choices-field reads them.
Writes /tmp/mmlu_small.jsonl."""
import json
import random

random.seed(7)
words = "the model reads a window of tokens and scores each one once perplexity is its exponential loss text bytes words which answer question".split()


def sent(n):
    return " ".join(random.choice(words) for _ in range(n)).capitalize()


shots = "\n\n".join(f"Question: {sent(25)}?\nA. {sent(4)}\nB. {sent(4)}\nC. {sent(4)}\nD. {sent(4)}\nAnswer: {random.choice('ABCD')}" for _ in range(5))
with open("/tmp/mmlu_small.jsonl", "w") as f:
    for d in range(300):
        ctx = shots + f"\n\nQuestion: {sent(25)}?\nA. {sent(4)}\nB. {sent(4)}\nC. {sent(4)}\nD. {sent(4)}\nAnswer:"
        f.write(json.dumps({"context": ctx, "choices": ["A", "B", "C", "D"], "gold": random.randrange(4)}) + "\n")
