#!/usr/bin/python3
"""Encodes a text with SentencePiece itself (the Python binding, 0.1.97 on Debian: python3-sentencepiece)
and compares its ids with a .npy that `gpuinfo tokenize --out` wrote; prints one JSON line.

    /usr/bin/python3 compare_sentencepiece.py MODEL TEXT OURS.npy

As gpuinfo does (and Hugging Face's tokenizers, where spm_encode reads their characters), the model's
control and unknown pieces ("<s>", "</s>", "<unk>") are found in the text first, the longest at the
leftmost place, and each run of text between them is encoded on its own; a BPE model's BOS goes
before the text, as gpuinfo and Hugging Face's LlamaTokenizer put it.
"""
import json
import sys
import time

import numpy as np
import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as model_pb2

model_path, text_path, ours_path = sys.argv[1:4]
processor = spm.SentencePieceProcessor(model_file=model_path)
proto = model_pb2.ModelProto.FromString(open(model_path, "rb").read())
special = {p.piece: i for i, p in enumerate(proto.pieces) if p.type in (model_pb2.ModelProto.SentencePiece.CONTROL, model_pb2.ModelProto.SentencePiece.UNKNOWN)}
text = open(text_path, encoding="utf-8", newline="").read()  # line breaks as they are

started = time.perf_counter()
ids = [proto.trainer_spec.bos_id] if proto.trainer_spec.model_type == model_pb2.TrainerSpec.BPE and proto.trainer_spec.bos_id >= 0 else []
at = 0
while at <= len(text):
    found = [(text.find(s, at), -len(s), s) for s in special if text.find(s, at) >= 0]
    hit = min(found) if found else None
    end = hit[0] if hit else len(text)
    if end > at:
        ids.extend(processor.encode(text[at:end]))
    if not hit:
        break
    ids.append(special[hit[2]])
    at = end + len(hit[2])
seconds = time.perf_counter() - started

ours = np.load(ours_path).tolist()
first = next((i for i in range(min(len(ids), len(ours))) if ids[i] != ours[i]), -1 if len(ids) == len(ours) else min(len(ids), len(ours)))
result = {"equal": first < 0, "ids": len(ids), "ours": len(ours), "sentencepiece_seconds": round(seconds, 3)}
if first >= 0:
    result["first_difference"] = {"at": first, "sentencepiece": processor.id_to_piece(ids[first:first + 5]), "ours": [processor.id_to_piece(i) if 0 <= i < len(proto.pieces) else i for i in ours[first:first + 5]]}
print(json.dumps(result, ensure_ascii=False))
