#!/usr/bin/python3
"""Reads a `gpuinfo tokenize --out F.safetensors` file with NumPy alone, by the safetensors layout
(8-byte header size, JSON header, tensors at their data_offsets), and prints what it holds.

    /usr/bin/python3 read_corpus.py F.safetensors
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"I32": np.int32, "I64": np.int64, "U8": np.uint8}


def read(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
    meta = header.pop("__metadata__")
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
    tensors = {name: data[e["data_offsets"][0]:e["data_offsets"][1]].view(DTYPES[e["dtype"]]).reshape(e["shape"])
               for name, e in header.items()}
    return meta, tensors


def main():
    meta, t = read(sys.argv[1])
    names = bytes(t["document_names"]).decode("utf-8").split("\0")
    starts = t["document_starts"]
    print(json.dumps({
        "format": meta["format"], "tokenizer": meta["tokenizer"], "vocabulary": meta["vocabulary"],
        "documents": len(starts), "names": len(names), "first_name": names[0],
        "tokens": int(t["ids"].size), "first_ids": t["ids"][:16].tolist(),
        "bytes": int(t["bytes"].sum(dtype=np.int64)), "words": int(t["words"].sum(dtype=np.int64)),
        "max_id": int(t["ids"].max()), "longest_document": int(np.diff(np.append(starts, t["ids"].size)).max()),
    }, indent=1))


if __name__ == "__main__":
    main()
