#!/usr/bin/python3
"""A random llama-architecture GGUF for timing llama.cpp's task scores, ours of its ONNX twin beside llama.cpp's own of it
(not committed: ~45 MB at the defaults).

    PYTHONPATH=/path/to/llama.cpp/gguf-py /usr/bin/python3 benchmarks/models/make_bench_llama.py OUT.gguf [--embd 384] [--layers 6] [--heads 6] [--ff 1024]
    PYTHONPATH=... python3 tests/GpuInfo.Tests/Formats/LlamaCpp/make_onnx_twin.py OUT.gguf twin [--past]

The tokenizer is the test model's (tests/GpuInfo.Tests/Models/vocab.json and merges.txt, 300 tokens, plus <|endoftext|>
as BOS), as LlamaCpp/make_model.py writes it; the weights are Gaussian, scaled so the activations stay near 1. Per token
the blocks take 2·layers·(4·embd² + 3·embd·ff) FLOP (21 MFLOP at the defaults), the head 2·embd·301: the blocks' work
dominates, as in a real LM.
"""
import argparse
import json
from pathlib import Path

import numpy as np

import gguf

MODELS = Path(__file__).resolve().parents[2] / "tests" / "GpuInfo.Tests" / "Models"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--embd", type=int, default=384)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--ff", type=int, default=1024)
    ap.add_argument("--context", type=int, default=512)
    a = ap.parse_args()
    vocab = json.loads((MODELS / "vocab.json").read_text(encoding="utf-8"))
    merges = [line for line in (MODELS / "merges.txt").read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    bos = len(tokens)
    tokens.append("<|endoftext|>")
    rng = np.random.default_rng(20261208)

    def noise(rows, cols, scale=1.0):
        return (rng.standard_normal((rows, cols)) * scale / np.sqrt(cols)).astype(np.float32)

    w = gguf.GGUFWriter(a.out, "llama")
    w.add_context_length(a.context)
    w.add_embedding_length(a.embd)
    w.add_block_count(a.layers)
    w.add_feed_forward_length(a.ff)
    w.add_head_count(a.heads)
    w.add_head_count_kv(a.heads)
    w.add_rope_dimension_count(a.embd // a.heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(len(tokens))
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types([gguf.TokenType.NORMAL] * (len(tokens) - 1) + [gguf.TokenType.CONTROL])
    w.add_token_merges(merges)
    w.add_bos_token_id(bos)
    w.add_eos_token_id(bos)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_tensor("token_embd.weight", noise(len(tokens), a.embd, np.sqrt(a.embd)))
    for layer in range(a.layers):
        p = f"blk.{layer}."
        w.add_tensor(p + "attn_norm.weight", np.ones(a.embd, np.float32))
        for name in ("attn_q", "attn_k", "attn_v"):
            w.add_tensor(p + name + ".weight", noise(a.embd, a.embd))
        w.add_tensor(p + "attn_output.weight", noise(a.embd, a.embd, 0.3))
        w.add_tensor(p + "ffn_norm.weight", np.ones(a.embd, np.float32))
        w.add_tensor(p + "ffn_gate.weight", noise(a.ff, a.embd))
        w.add_tensor(p + "ffn_up.weight", noise(a.ff, a.embd))
        w.add_tensor(p + "ffn_down.weight", noise(a.embd, a.ff, 0.3))
    w.add_tensor("output_norm.weight", np.ones(a.embd, np.float32))
    w.add_tensor("output.weight", noise(len(tokens), a.embd, 3.0))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
