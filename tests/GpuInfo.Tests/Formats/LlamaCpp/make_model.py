"""Writes base.gguf, the tiny llama-architecture model behind the llama.cpp .kld fixtures here.

Run with llama.cpp's gguf-py on the path (it is not vendored here):

    PYTHONPATH=/path/to/llama.cpp/gguf-py python3 make_model.py base.gguf

The model: n_embd 64, 2 layers, 4 heads, n_ff 128, a GPT-2 byte-level BPE vocabulary of 301 tokens
(the 300 of ../../Models/vocab.json and merges.txt plus <|endoftext|> as BOS, added at the start of
every chunk). Its weights are made so that its next-token distributions are peaked and follow the
text: the token embeddings and the output matrix are a rank-64 factorisation of a sharpened
log-bigram table counted on text.txt, plus noise that breaks ties, (tokenized here only approximately: the table just shapes the
weights), and the two blocks add small random attention and feed-forward terms, so that a
prediction also depends on the context. Everything is seeded: the file is the same on every run.
"""

import json
import re
import sys
from pathlib import Path

import numpy as np
import gguf

HERE = Path(__file__).resolve().parent
MODELS = HERE.parent.parent / "Models"
N_EMBD, N_LAYER, N_HEAD, N_FF, N_CTX_TRAIN = 64, 2, 4, 128, 512


def byte_to_unicode():
    """GPT-2's map of bytes to printable characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def approximate_tokens(text, vocab, merges):
    """GPT-2 BPE close enough to shape the weights (pre-splits on words, digits, other runs, spaces)."""
    ranks = {tuple(m.split()): i for i, m in enumerate(merges)}
    table = byte_to_unicode()
    ids = []
    for word in re.findall(r"'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+", text):
        parts = [table[b] for b in word.encode("utf-8")]
        while len(parts) > 1:
            pairs = [(ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, i = min(pairs)
            if rank == 1 << 30:
                break
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        ids.extend(vocab[p] for p in parts)
    return ids


def main(out):
    vocab = json.loads((MODELS / "vocab.json").read_text(encoding="utf-8"))
    merges = [line for line in (MODELS / "merges.txt").read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    assert [vocab[t] for t in tokens] == list(range(len(tokens)))
    bos = len(tokens)
    tokens.append("<|endoftext|>")
    n_vocab = len(tokens)

    rng = np.random.default_rng(20261205)
    ids = approximate_tokens((HERE / "text.txt").read_text(encoding="utf-8"), vocab, merges)
    counts = np.full((n_vocab, n_vocab), 0.002)
    for a, b in zip([bos] + ids, ids):
        counts[a, b] += 1
    table = np.log(counts / counts.sum(axis=1, keepdims=True))
    table += rng.standard_normal(table.shape) * 0.5  # breaks the ties of equal counts
    table -= table.mean(axis=1, keepdims=True)
    u, s, vt = np.linalg.svd(table)
    root = np.sqrt(s[:N_EMBD])
    embed = u[:, :N_EMBD] * root
    # The output norm divides each embedding by its rms; scaling the output rows by the mean rms
    # keeps the logits near 3x the table's (peaked distributions).
    rms = np.sqrt((embed ** 2).mean(axis=1)).mean()
    output = vt[:N_EMBD].T * root * rms * 3

    def noise(rows, cols, scale):
        return (rng.standard_normal((rows, cols)) * scale / np.sqrt(cols)).astype(np.float32)

    w = gguf.GGUFWriter(out, "llama")
    w.add_context_length(N_CTX_TRAIN)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD)
    w.add_rope_dimension_count(N_EMBD // N_HEAD)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(n_vocab)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types([gguf.TokenType.NORMAL] * (n_vocab - 1) + [gguf.TokenType.CONTROL])
    w.add_token_merges(merges)
    w.add_bos_token_id(bos)
    w.add_eos_token_id(bos)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)

    w.add_tensor("token_embd.weight", embed.astype(np.float32))
    for layer in range(N_LAYER):
        p = f"blk.{layer}."
        w.add_tensor(p + "attn_norm.weight", np.ones(N_EMBD, np.float32))
        w.add_tensor(p + "attn_q.weight", noise(N_EMBD, N_EMBD, 2.0))
        w.add_tensor(p + "attn_k.weight", noise(N_EMBD, N_EMBD, 2.0))
        w.add_tensor(p + "attn_v.weight", noise(N_EMBD, N_EMBD, 1.0))
        w.add_tensor(p + "attn_output.weight", noise(N_EMBD, N_EMBD, 0.3 * rms))
        w.add_tensor(p + "ffn_norm.weight", np.ones(N_EMBD, np.float32))
        w.add_tensor(p + "ffn_gate.weight", noise(N_FF, N_EMBD, 1.0))
        w.add_tensor(p + "ffn_up.weight", noise(N_FF, N_EMBD, 1.0))
        w.add_tensor(p + "ffn_down.weight", noise(N_EMBD, N_FF, 0.3 * rms))
    w.add_tensor("output_norm.weight", np.ones(N_EMBD, np.float32))
    w.add_tensor("output.weight", output.astype(np.float32))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "base.gguf")
