#!/usr/bin/python3
"""Trains the small SentencePiece BPE model that the SentencePiece tests use, and writes it as the
Hugging Face tokenizer.json that transformers' converter makes of such a model, with SentencePiece's
own ids for test texts as the golden.

    apt-get install python3-sentencepiece
    /usr/bin/python3 tests/GpuInfo.Tests/Models/make_sentencepiece.py
    # then the tokenizers.js goldens for the tokenizer.json: make_tokenizer_templates.mjs

Writes, beside itself (rerunning it rewrites the same files):

- sp_bpe.model: a BPE model of 300 pieces (so that the test models, of vocabulary 300, can run on
  its ids) trained on make_models.py's TRAIN_TEXT, as Llama 2's is: byte fallback, a dummy prefix,
  spaces kept as they are (remove_extra_whitespaces false), no character normalization.
- sp_bpe_tokenizer.json: the same model as transformers' LlamaConverter writes a tokenizer.json
  (normalizer Prepend('▁') then Replace(' ', '▁'); BPE with byte_fallback and fuse_unk; its merges
  every split of each piece into two pieces, ordered by the piece's score, as its
  SentencePieceExtractor makes them; <unk>, <s>, </s> added; <s> put before each text).
- sentencepiece.json: each of TEXTS and SentencePiece 0.1.97's ids for it (BOS not included), under
  sp_bpe.model ("texts") and under sp_bpe_spaces.model ("remove_extra_whitespaces").
- sp_bpe_spaces.model: the same BPE trained with SentencePiece's default remove_extra_whitespaces
  (spaces at a text's ends dropped, runs of them inside it made one).
- sp_unigram.model, sp_unigram_tokenizer.json: a Unigram model of 190 pieces trained on the same text, without byte
  fallback (so that runs of characters outside it are unknown), written as transformers' T5 converter
  writes one (runs of spaces replaced by one, WhitespaceSplit then Metaspace, </s> after each text),
  without its Precompiled normalizer (the model is trained with identity normalization); its
  goldens are the Rust library's ids (make_rust_tokenizers.mjs).
- sp_unigram_nfkc.model, sp_unigram_nfkc_tokenizer.json: a Unigram model of 420 pieces trained with
  SentencePiece's defaults (nmt_nfkc normalization, as T5's, ALBERT's and XLM-R's models are) and byte
  fallback, written as transformers' converter writes one: its Precompiled normalizer (the model's
  character map, base64), runs of spaces replaced by one, WhitespaceSplit then Metaspace, </s> after
  each text; its goldens are the Rust library's ids and normalized texts (make_rust_tokenizers.mjs).
- sp_unigram_user.model: sp_unigram.model with user-defined pieces added (a multi-byte one, one that
  normal pieces also spell) and its normalizer's add_dummy_prefix and remove_extra_whitespaces off.
- sp_unigram_suffix.model: sp_unigram.model with treat_whitespace_as_suffix on.
- sentencepiece.json "unigram_models": SentencePiece's own ids for TEXTS and NORMALIZER_TEXTS under each of
  the four Unigram .model files (what gpuinfo reads a .model with: the model's own normalizer, not
  Hugging Face's conversion of it).
- sp_bpe_nfkc.model: a BPE of 300 pieces trained with SentencePiece's defaults (nmt_nfkc, extra spaces
  removed) and without byte fallback (so that runs of characters outside it are one unknown piece), as
  Marian's (opus-mt) models are; sentencepiece.json "bpe_nfkc": its ids for TEXTS and NORMALIZER_TEXTS.
"""
import base64
import json
import os
import sys

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as model_pb2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_models import TEST_TEXT, TRAIN_TEXT  # noqa: E402

# Runs of one character (```, spaces, ***) merge left to right; characters outside the vocabulary
# fall back to bytes; a leading space, tabs, line breaks, and text with nothing but spaces.
TEXTS = [
    "A model of language",
    " leading space, then   three spaces and\ttabs",
    "```python\n```\n    indented code\n        deeper\n*** --- ===",
    "naïve café — “quotes” 日本語 🤖",
    "aaaaaaa bbbbbbb tttttt",
    "x   y       z ``````` seven",
    "   ",
    TEST_TEXT,
]


# For the .model files with a normalizer: the character map's longest keys and its space rules (full-width letters,
# U+3000, tabs and line breaks as spaces, ligatures, composed and decomposed accents, circled digits,
# Roman numerals), user-defined pieces, runs of unknown characters, and nothing but spaces.
NORMALIZER_TEXTS = [
    "ｆｕｌｌ　ｗｉｄｔｈ and\u3000ideographic space",
    "e\u0301\u0302 e\u0302\u0301 \u212b A\u030a ﬁnance ① ⅷ ㍻ ¼ ™ \u00a0nbsp",
    "  \t lead\r\n  and   trail \t ",
    "<sep>a<sep> <sep>ingo xingo 日本語 日本",
    "☃☃☃ x☃☃y ☃",
    "\t",
    "",
]
USER_DEFINED = ["<sep>", "ingo", "日本"]


# Lines with runs of one character, so that the vocabulary has "``", "▁▁", "▁▁▁▁" and "==" to merge runs with.
RUNS = ["```", "    indented", "        deeper", "====", "= = Title = =", "``", "  two"] * 20


def train(name="sp_bpe", remove_extra_whitespaces=False, nfkc=False):
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TRAIN_TEXT.split("\n") + TEST_TEXT.split("\n") + RUNS),
        model_prefix=os.path.join(HERE, name),
        model_type="bpe",
        vocab_size=300,
        byte_fallback=not nfkc,
        character_coverage=0.98,
        remove_extra_whitespaces=remove_extra_whitespaces or nfkc,
        normalization_rule_name="nmt_nfkc" if nfkc else "identity",
        split_digits=True,
        allow_whitespace_only_pieces=True,
        num_threads=1,
        minloglevel=2,
    )
    os.remove(os.path.join(HERE, name + ".vocab"))


def train_unigram(name="sp_unigram", nfkc=False):
    prefix = os.path.join(HERE, name)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TRAIN_TEXT.split("\n") + TEST_TEXT.split("\n") + RUNS),
        model_prefix=prefix,
        model_type="unigram",
        vocab_size=420 if nfkc else 190,
        byte_fallback=nfkc,
        character_coverage=0.98,
        normalization_rule_name="nmt_nfkc" if nfkc else "identity",
        num_threads=1,
        minloglevel=2,
    )
    proto = model_pb2.ModelProto.FromString(open(prefix + ".model", "rb").read())
    os.remove(prefix + ".vocab")
    replace = {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}
    charsmap = proto.normalizer_spec.precompiled_charsmap
    precompiled = [{"type": "Precompiled", "precompiled_charsmap": base64.b64encode(charsmap).decode("ascii")}] if charsmap else []
    special = [{"id": i, "content": p, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
               for i, p in enumerate(["<unk>", "<s>", "</s>"])]
    metaspace = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": special,
        "normalizer": {"type": "Sequence", "normalizers": precompiled + [replace]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, metaspace]},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {"</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}},
        },
        "decoder": metaspace,
        "model": {"type": "Unigram", "unk_id": 0, "vocab": [[p.piece, p.score] for p in proto.pieces], "byte_fallback": nfkc},
    }


def tokenizer_json(model_path):
    proto = model_pb2.ModelProto()
    with open(model_path, "rb") as f:
        proto.ParseFromString(f.read())
    pieces = [(p.piece, p.score) for p in proto.pieces]
    vocab = {piece: i for i, (piece, _) in enumerate(pieces)}
    # Every split of a piece into two pieces of the vocabulary is a merge, ranked by the piece's score
    # (the higher first), ties in the order the pieces are listed; within a piece, by the two ids.
    merges = []
    for i, (piece, score) in enumerate(pieces):
        splits = [(piece[:k], piece[k:]) for k in range(1, len(piece)) if piece[:k] in vocab and piece[k:] in vocab]
        splits.sort(key=lambda s: (vocab[s[0]], vocab[s[1]]))
        merges.extend((score, i, left, right) for left, right in splits)
    merges.sort(key=lambda m: (-m[0], m[1]))
    special = [{"id": i, "content": p, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
               for i, p in enumerate(["<unk>", "<s>", "</s>"])]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": special,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
        },
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
                  "vocab": vocab, "merges": [f"{left} {right}" for _, _, left, right in merges]},
    }


def unigram_variants():
    """sp_unigram_user.model and sp_unigram_suffix.model, by editing the trained models' protos."""
    user = model_pb2.ModelProto.FromString(open(os.path.join(HERE, "sp_unigram.model"), "rb").read())
    for piece in USER_DEFINED:
        user.pieces.add(piece=piece, score=0, type=model_pb2.ModelProto.SentencePiece.USER_DEFINED)
    user.normalizer_spec.add_dummy_prefix = False
    user.normalizer_spec.remove_extra_whitespaces = False
    suffix = model_pb2.ModelProto.FromString(open(os.path.join(HERE, "sp_unigram.model"), "rb").read())
    suffix.trainer_spec.treat_whitespace_as_suffix = True
    for name, proto in [("sp_unigram_user.model", user), ("sp_unigram_suffix.model", suffix)]:
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(proto.SerializeToString())


def main():
    train()
    train("sp_bpe_spaces", remove_extra_whitespaces=True)
    train("sp_bpe_nfkc", nfkc=True)
    model_path = os.path.join(HERE, "sp_bpe.model")
    with open(os.path.join(HERE, "sp_bpe_tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(model_path), f, ensure_ascii=False, indent=1)
        f.write("\n")
    sp = spm.SentencePieceProcessor(model_file=model_path)
    spaces = spm.SentencePieceProcessor(model_file=os.path.join(HERE, "sp_bpe_spaces.model"))
    golden = {
        "generator": f"SentencePiece {spm.__version__}, make_sentencepiece.py",
        "texts": [{"text": t, "ids": sp.encode(t)} for t in TEXTS],
        "remove_extra_whitespaces": [{"text": t, "ids": spaces.encode(t)} for t in TEXTS],
    }
    with open(os.path.join(HERE, "sp_unigram_tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(train_unigram(), f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(HERE, "sp_unigram_nfkc_tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(train_unigram("sp_unigram_nfkc", nfkc=True), f, ensure_ascii=False, indent=1)
        f.write("\n")
    unigram_variants()
    golden["unigram_models"] = {}
    for name in ["sp_unigram.model", "sp_unigram_nfkc.model", "sp_unigram_user.model", "sp_unigram_suffix.model"]:
        unigram = spm.SentencePieceProcessor(model_file=os.path.join(HERE, name))
        golden["unigram_models"][name] = [{"text": t, "ids": unigram.encode(t)} for t in TEXTS + NORMALIZER_TEXTS]
    bpe_nfkc = spm.SentencePieceProcessor(model_file=os.path.join(HERE, "sp_bpe_nfkc.model"))
    golden["bpe_nfkc"] = [{"text": t, "ids": bpe_nfkc.encode(t)} for t in TEXTS + NORMALIZER_TEXTS]
    with open(os.path.join(HERE, "sentencepiece.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
        f.write("\n")
    for t in golden["texts"]:
        print(len(t["ids"]), sp.id_to_piece(t["ids"][:12]))
    print([p.piece for p in model_pb2.ModelProto.FromString(open(model_path, "rb").read()).pieces if len(p.piece) > 1 and len(set(p.piece)) == 1])


if __name__ == "__main__":
    main()
