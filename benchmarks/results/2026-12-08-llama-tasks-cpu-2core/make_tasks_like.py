"""llama.cpp task files of a full set's size, of random words of the repository's README: hellaswag_like.txt (10042
tasks, as hellaswag_val_full.txt: a context of 30-60 words, a gold index, four endings of 10-25 words) and
winogrande_like.csv (1267 tasks, as winogrande-debiased-eval.csv: a sentence of 12-30 words with a blank, two names,
the answer; a blank line after the last, so llama.cpp reads it). Usage: python3 make_tasks_like.py README.md OUT_DIR"""
import os
import random
import sys

random.seed(8)
words = [w for w in open(sys.argv[1], encoding="utf-8").read().split() if w.isalpha()]
names = ["Sarah", "Maria", "John", "Joan", "Kevin", "Lisa", "the doctor", "the teacher"]


def sentence(low, high):
    return " ".join(random.choice(words) for _ in range(random.randint(low, high)))


with open(os.path.join(sys.argv[2], "hellaswag_like.txt"), "w", encoding="utf-8") as f:
    for _ in range(10042):
        f.write(sentence(30, 60) + "\n" + str(random.randint(0, 3)) + "\n" + "".join(sentence(10, 25) + "\n" for _ in range(4)))
with open(os.path.join(sys.argv[2], "winogrande_like.csv"), "w", encoding="utf-8") as f:
    for i in range(1267):
        a, b = random.sample(names, 2)
        f.write(f"{i},{sentence(4, 15)} _ {sentence(8, 15)}.,{a},{b},{random.randint(1, 2)}\n")
    f.write("\n")
