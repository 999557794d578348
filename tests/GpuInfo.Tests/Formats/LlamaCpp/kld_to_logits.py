"""Writes logits.npy [n_chunk, n_ctx, n_vocab] and tokens.npy [n_chunk, n_ctx] from a llama.cpp .kld base file: each
stored row's log-probabilities (scale * q + min) at its position (n_ctx/2 ... n_ctx - 2 of its chunk), zeros at the
positions a .kld does not keep. `gpuinfo convert` of them writes a .kld again, which llama-perplexity
--kl-divergence-base then reads (convert_kld_run.txt).

    /usr/bin/python3 kld_to_logits.py base.kld OUT_DIR
"""
import os
import struct
import sys

import numpy as np


def main(source, out):
    data = open(source, "rb").read()
    assert data[:8] == b"_logits_", "not a .kld file"
    n_ctx, n_vocab, n_chunk = struct.unpack("<Iii", data[8:20])
    at = 20
    tokens = np.frombuffer(data[at:at + 4 * n_ctx * n_chunk], dtype=np.int32).reshape(n_chunk, n_ctx)
    at += 4 * n_ctx * n_chunk
    width = 4 + n_vocab + (n_vocab & 1)
    logits = np.zeros((n_chunk, n_ctx, n_vocab), np.float32)
    for c in range(n_chunk):
        for r in range(n_ctx - 1 - n_ctx // 2):
            row = np.frombuffer(data[at:at + 2 * width], dtype=np.uint16)
            at += 2 * width
            scale, low = np.frombuffer(row[:4].tobytes(), dtype=np.float32)
            logits[c, n_ctx // 2 + r] = scale * row[4:4 + n_vocab].astype(np.float32) + low
    assert at == len(data), "trailing bytes"
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "logits.npy"), logits)
    np.save(os.path.join(out, "tokens.npy"), tokens.astype(np.int64))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
