"""Golden pages for `--detokenize wikitext`: wikitext_detokenizer.json.

Each entry is a page (WikiText-style text, random or an edge case), the text lm-evaluation-harness's
wikitext_detokenizer makes of it, and the words and bytes its process_results counts for the page (of
the page as given, before detokenizing). WikitextDetokenizerTests checks gpuinfo against them.

Run with the path of lm-evaluation-harness's lm_eval/tasks/wikitext/preprocess_wikitext.py (made on
2026-12-07 from commit 4e7e0d47f33b of github.com/EleutherAI/lm-evaluation-harness; it imports only `re`):

    python3 make_wikitext_detokenizer.py /path/to/preprocess_wikitext.py
"""
import importlib.util
import json
import os
import random
import sys

SEED = 20261207
COUNT = 400

# What WikiText's tokenization leaves, and what the detokenizer's patterns look for.
PIECES = [
    "the", "Valkyria", "Chronicles", "III", "game", "'s", "s", "'", "\"", "(", ")", "[", "]", "{", "}",
    "@-@", "@,@", "@.@", ":", ";", ".", "!", "?", ",", "=", "= =", "= = =", "N", "\u00b0", "/'", "5/", "/' 7/",
    "1 @,@ 000", "3 @.@ 5", "role @-@ playing", "戦場のヴァルキュリア3", "Москва", "Ελλάδα", "العربية", "😀", "e\u0301",
    "\n", "\n", " ", "\t", "\u00a0", "\u3000", "\x1c", "\x1f", "\u2028", "\u0085", "\u200b",
]


def random_page(rng):
    words = []
    for _ in range(rng.randint(0, 80)):
        words.append(rng.choice(PIECES))
    # WikiText separates its tokens with single spaces, and sometimes other runs of white space.
    page = ""
    for w in words:
        page += w + rng.choice([" ", " ", " ", " ", "", "  ", " \n "])
    if rng.random() < 0.3:
        page = " " + page
    if rng.random() < 0.3:
        page = " = " + rng.choice(["Valkyria Chronicles III", "Gameplay", "Tower Building of the Little Rock Arsenal"]) + " = \n \n" + page
    return page


EDGE_CASES = [
    "",
    " ",
    " = Valkyria Chronicles III = \n \n Senjō no Valkyria 3 : Unrecorded Chronicles ( Japanese : 戦場のヴァルキュリア3 , lit . Valkyria of the Battlefield 3 ) , commonly referred to as Valkyria Chronicles III outside Japan , is a tactical role @-@ playing video game . \n",
    " = = Gameplay = = \n \n The game 's battle system , the BliTZ system , is carried over directly from Valkyira Chronicles . \n \n = = = Plot = = = \n",
    "It cost $ 1 @,@ 500 @.@ 5 million ; the temperature was 20 \u00b0 C ! Was it ? Yes . \n",
    "the players ' characters and /' 5/ and /' 9/ and the N days",
    "a ( b ( c ) d ) e [ [ f ] ] g { h } \" i \" ' j ' ' k",
    "( \u3000unclosed [ also \" too ' and",
    "\x1c( spaced \x1f) and (\u00a0nbsp\u00a0) and (\u200bzero width\u200b)",
    " \n \n \n ",
    "= = = = Deep = = = =",
    "trailing space ",
]


def main():
    path = sys.argv[1]
    spec = importlib.util.spec_from_file_location("preprocess_wikitext", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = random.Random(SEED)
    pages = EDGE_CASES + [random_page(rng) for _ in range(COUNT)]
    entries = []
    for page in pages:
        doc = {"page": page}
        counted = module.process_results(doc, [(0.0, False)])
        entries.append({
            "page": page,
            "detokenized": module.wikitext_detokenizer(doc),
            "words": counted["word_perplexity"][1],
            "bytes": counted["byte_perplexity"][1],
        })
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wikitext_detokenizer.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"source": "lm-evaluation-harness 4e7e0d47f33b lm_eval/tasks/wikitext/preprocess_wikitext.py",
                   "seed": SEED, "pages": entries}, f, ensure_ascii=True, indent=0)
        f.write("\n")
    changed = sum(e["page"] != e["detokenized"] for e in entries)
    print(f"{len(entries)} pages ({changed} changed by the detokenizer) -> {out}")


if __name__ == "__main__":
    main()
