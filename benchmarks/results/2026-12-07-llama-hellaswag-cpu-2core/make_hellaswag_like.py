"""400 tasks in llama.cpp's HellaSwag layout (6 lines a task), of random words of the repository's README: a context of
30-60 words, a gold index, four endings of 10-25 words. Usage: python3 make_hellaswag_like.py README.md OUT.txt"""
import random
import sys

random.seed(7)
words = [w for w in open(sys.argv[1], encoding="utf-8").read().split() if w.isalpha()]
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for _ in range(400):
        f.write(" ".join(random.choice(words) for _ in range(random.randint(30, 60))) + "\n" + str(random.randint(0, 3)) + "\n")
        for _ in range(4):
            f.write(" ".join(random.choice(words) for _ in range(random.randint(10, 25))) + "\n")
