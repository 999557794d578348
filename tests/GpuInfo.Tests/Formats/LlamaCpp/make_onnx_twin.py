"""Writes twin/, base.gguf (make_model.py) as an ONNX export's folder that computes what llama.cpp computes with it, so
that gpuinfo's llama.cpp task scores of the twin can be set beside llama-perplexity's own of the GGUF: model.onnx,
tokenizer.json (the GGUF's tokens and merges as a byte-level BPE that puts its BOS before each text, as llama.cpp's
add_bos_token does) and config.json (its context length).

Run with llama.cpp's gguf-py on the path:

    PYTHONPATH=/path/to/llama.cpp/gguf-py python3 make_onnx_twin.py base.gguf twin
    PYTHONPATH=/path/to/llama.cpp/gguf-py python3 make_onnx_twin.py base.gguf twin_past --past

The graph is llama.cpp's llama architecture as it runs this model (src/models/llama.cpp): each block RMS-normalises
(eps from the file) and scales by attn_norm, projects q, k, v, rotates q and k by position with RoPE of llama.cpp's
"normal" kind (each adjacent pair of a head's dimensions, theta = pos * 10000^(-2i/d)), attends causally with scale
1/sqrt(head_dim), projects out and adds; then RMS norm, ffn_norm, SiLU(gate) * up, down, added; the output norm and
output matrix give the logits. Weights F32 as in the file; input input_ids [batch, sequence] int64, output logits
[batch, sequence, vocabulary] float32.

With --past, the same graph with a KV cache as optimum exports a llama (text-generation-with-past): it also takes
attention_mask [batch, past + sequence] (all ones here), position_ids [batch, sequence] and past_key_values.{i}.key/value
[batch, heads, past, head_dim] and transformers' logits_to_keep (the head on the last n positions only; all for 0), attends
over the past's keys and values then the window's (token i at position past + i sees the past and the window up to
itself), and returns present.{i}.key/value, the past's and the window's together.
"""

import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import gguf

MAX_POSITIONS = 512


def main(source, out, past=False):
    reader = gguf.GGUFReader(source)
    fields = {f.name: f for f in reader.fields.values()}

    def scalar(name):
        field = fields[name]
        return field.parts[field.data[0]][0]

    def strings(name):
        field = fields[name]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]

    n_embd = int(scalar("llama.embedding_length"))
    n_layer = int(scalar("llama.block_count"))
    n_head = int(scalar("llama.attention.head_count"))
    eps = float(scalar("llama.attention.layer_norm_rms_epsilon"))
    head = n_embd // n_head
    # numpy's shape of each tensor is ggml's ne reversed: (out, in) for a matrix applied as x @ W.T
    tensors = {t.name: np.array(t.data, dtype=np.float32).reshape([int(d) for d in reversed(t.shape)]) for t in reader.tensors}
    n_vocab = tensors["token_embd.weight"].shape[0]

    nodes, inits = [], []
    counter = [0]

    def const(array, name=None):
        counter[0] += 1
        name = name or f"c{counter[0]}"
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(kind, inputs, **attrs):
        counter[0] += 1
        name = f"t{counter[0]}"
        nodes.append(helper.make_node(kind, inputs, [name], **attrs))
        return name

    def rms_norm(x, weight):
        mean = op("ReduceMean", [op("Mul", [x, x])], axes=[-1], keepdims=1)
        return op("Mul", [op("Div", [x, op("Sqrt", [op("Add", [mean, const(np.float32(eps))])])]), const(weight)])

    def matmul(x, weight):
        return op("MatMul", [x, const(weight.T.copy())])

    inv = 10000.0 ** (-np.arange(0, head, 2, dtype=np.float64) / head)
    angles = np.arange(MAX_POSITIONS, dtype=np.float64)[:, None] * inv[None, :]
    shape = op("Shape", ["input_ids"])
    s = op("Gather", [shape, const(np.int64(1))], axis=0)
    s1 = op("Unsqueeze", [s, const(np.array([0], np.int64))])
    if past:
        # Each token's angles at its position_ids; the mask over the past and the window: -inf where key j > past + query i.
        cos = op("Gather", [const(np.cos(angles).astype(np.float32)[:, None, :]), "position_ids"], axis=0)  # [B, S, 1, head/2]
        sin = op("Gather", [const(np.sin(angles).astype(np.float32)[:, None, :]), "position_ids"], axis=0)
        p = op("Gather", [op("Shape", ["past_key_values.0.key"]), const(np.int64(2))], axis=0)
        t1 = op("Unsqueeze", [op("Add", [s, p]), const(np.array([0], np.int64))])
        mask = op("Trilu", [op("ConstantOfShape", [op("Concat", [s1, t1], axis=0)], value=numpy_helper.from_array(np.array([-np.inf], np.float32))),
                            op("Add", [p, const(np.int64(1))])], upper=1)
    else:
        # Positions 0 .. S-1, and the tables sliced to S.
        zero = const(np.array([0], np.int64))
        cos = op("Slice", [const(np.cos(angles).astype(np.float32)[:, None, :]), zero, s1, zero])  # [S, 1, head/2]
        sin = op("Slice", [const(np.sin(angles).astype(np.float32)[:, None, :]), zero, s1, zero])
        square = op("Concat", [s1, s1], axis=0)
        mask = op("Trilu", [op("ConstantOfShape", [square], value=numpy_helper.from_array(np.array([-np.inf], np.float32))), const(np.int64(1))], upper=1)

    def rope(x):
        # [B, S, H*D] -> [B, S, H, D/2, 2]: each adjacent pair rotated by its position's angle.
        pairs = op("Reshape", [x, const(np.array([0, 0, n_head, head // 2, 2], np.int64))])
        x0 = op("Gather", [pairs, const(np.int64(0))], axis=4)
        x1 = op("Gather", [pairs, const(np.int64(1))], axis=4)
        r0 = op("Sub", [op("Mul", [x0, cos]), op("Mul", [x1, sin])])
        r1 = op("Add", [op("Mul", [x0, sin]), op("Mul", [x1, cos])])
        four = const(np.array([4], np.int64))
        both = op("Concat", [op("Unsqueeze", [r0, four]), op("Unsqueeze", [r1, four])], axis=4)
        return op("Reshape", [both, const(np.array([0, 0, n_head, head], np.int64))])

    x = op("Gather", [const(tensors["token_embd.weight"]), "input_ids"], axis=0)
    for layer in range(n_layer):
        p = f"blk.{layer}."
        h = rms_norm(x, tensors[p + "attn_norm.weight"])
        q = op("Transpose", [rope(matmul(h, tensors[p + "attn_q.weight"]))], perm=[0, 2, 1, 3])  # [B, H, S, D]
        if past:
            k = op("Transpose", [rope(matmul(h, tensors[p + "attn_k.weight"]))], perm=[0, 2, 1, 3])  # [B, H, S, D]
        else:
            k = op("Transpose", [rope(matmul(h, tensors[p + "attn_k.weight"]))], perm=[0, 2, 3, 1])  # [B, H, D, S]
        v = op("Transpose", [op("Reshape", [matmul(h, tensors[p + "attn_v.weight"]), const(np.array([0, 0, n_head, head], np.int64))])], perm=[0, 2, 1, 3])
        if past:
            k = op("Concat", [f"past_key_values.{layer}.key", k], axis=2)
            v = op("Concat", [f"past_key_values.{layer}.value", v], axis=2)
            nodes.append(helper.make_node("Identity", [k], [f"present.{layer}.key"]))
            nodes.append(helper.make_node("Identity", [v], [f"present.{layer}.value"]))
            k = op("Transpose", [k], perm=[0, 1, 3, 2])  # [B, H, D, past + S]
        scores = op("Add", [op("Mul", [op("MatMul", [q, k]), const(np.float32(1 / np.sqrt(head)))]), mask])
        attended = op("MatMul", [op("Softmax", [scores], axis=-1), v])  # [B, H, S, D]
        merged = op("Reshape", [op("Transpose", [attended], perm=[0, 2, 1, 3]), const(np.array([0, 0, n_embd], np.int64))])
        x = op("Add", [x, matmul(merged, tensors[p + "attn_output.weight"])])
        h = rms_norm(x, tensors[p + "ffn_norm.weight"])
        gate = matmul(h, tensors[p + "ffn_gate.weight"])
        silu = op("Mul", [gate, op("Sigmoid", [gate])])
        x = op("Add", [x, matmul(op("Mul", [silu, matmul(h, tensors[p + "ffn_up.weight"])]), tensors[p + "ffn_down.weight"])])
    if past:
        # transformers' logits_to_keep: the head on the last n positions only (all for 0).
        x = op("Slice", [x, op("Unsqueeze", [op("Neg", ["logits_to_keep"]), const(np.array([0], np.int64))]),
                         const(np.array([np.iinfo(np.int64).max], np.int64)), const(np.array([1], np.int64))])
    logits = matmul(rms_norm(x, tensors["output_norm.weight"]), tensors["output.weight"])
    nodes.append(helper.make_node("Identity", [logits], ["logits"]))

    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", n_vocab])]
    if past:
        inputs += [helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "total_sequence"]),
                   helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "sequence"]),
                   helper.make_tensor_value_info("logits_to_keep", TensorProto.INT64, [])]
        for layer in range(n_layer):
            for part in ("key", "value"):
                inputs.append(helper.make_tensor_value_info(f"past_key_values.{layer}.{part}", TensorProto.FLOAT, ["batch", n_head, "past_sequence", head]))
                outputs.append(helper.make_tensor_value_info(f"present.{layer}.{part}", TensorProto.FLOAT, ["batch", n_head, "total_sequence", head]))
    graph = helper.make_graph(nodes, "llama_twin", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="make_onnx_twin.py")
    onnx.checker.check_model(model)
    os.makedirs(out, exist_ok=True)
    onnx.save(model, os.path.join(out, "model.onnx"))

    tokens, merges = strings("tokenizer.ggml.tokens"), strings("tokenizer.ggml.merges")
    bos = int(scalar("tokenizer.ggml.bos_token_id"))
    special = {"id": bos, "content": tokens[bos], "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [special], "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": tokens[bos], "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": tokens[bos], "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {tokens[bos]: {"id": tokens[bos], "ids": [bos], "tokens": [tokens[bos]]}}},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(tokens)}, "merges": merges},
    }
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    with open(os.path.join(out, "config.json"), "w", encoding="utf-8") as f:
        json.dump({"model_type": "llama", "max_position_embeddings": int(scalar("llama.context_length")), "vocab_size": len(tokens)}, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], "--past" in sys.argv[3:])
