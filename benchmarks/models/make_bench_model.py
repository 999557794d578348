#!/usr/bin/python3
"""A synthetic causal LM for timing `gpuinfo perplexity` (not committed: ~150 MB at the defaults).

    /usr/bin/python3 benchmarks/models/make_bench_model.py OUT.onnx [--vocab 32000] [--dim 512] [--hidden 2048] [--layers 2] [--logits-to-keep]

input_ids, attention_mask, position_ids -> logits [B, S, vocab] (float32): token embeddings plus
position embeddings, a causal mean over the window (CumSum / count), `layers` residual MLP blocks
(dim -> hidden -> dim, Relu) and a linear head. Per position that is 2·dim·vocab + 4·layers·dim·hidden
multiply-adds: at the defaults the head (33 MFLOP) outweighs the rest (8 MFLOP), so the logits'
share of the work is larger than in a real LM of this vocabulary; a harsh case for the time spent
outside the model.
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--hidden", type=int, default=2048)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--positions", type=int, default=2048)
    ap.add_argument("--logits-to-keep", action="store_true",
                    help="take transformers' logits_to_keep (int64 scalar): the head runs on the last n positions only (all for 0), as newer exports do")
    a = ap.parse_args()
    rng = np.random.default_rng(5)

    def w(name, *shape, scale=None):
        s = scale if scale is not None else 1.0 / np.sqrt(shape[0])
        return numpy_helper.from_array((rng.standard_normal(shape) * s).astype(np.float32), name)

    inits = [w("embed", a.vocab, a.dim, scale=1.0), w("pos", a.positions, a.dim, scale=0.1), w("head", a.dim, a.vocab),
             numpy_helper.from_array(np.array(1, np.int64), "axis1"), numpy_helper.from_array(np.array([2], np.int64), "axis2")]
    nodes = [
        helper.make_node("Gather", ["embed", "input_ids"], ["x"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask", "axis2"], ["mask3"]),
        helper.make_node("Mul", ["x", "mask3"], ["xm"]),
        helper.make_node("CumSum", ["xm", "axis1"], ["sums"]),
        helper.make_node("CumSum", ["mask3", "axis1"], ["counts"]),
        helper.make_node("Div", ["sums", "counts"], ["mean"]),
        helper.make_node("Gather", ["pos", "position_ids"], ["pe"], axis=0),
        helper.make_node("Add", ["mean", "pe"], ["h0"]),
    ]
    h = "h0"
    for i in range(a.layers):
        inits += [w(f"up{i}", a.dim, a.hidden), w(f"down{i}", a.hidden, a.dim)]
        nodes += [
            helper.make_node("MatMul", [h, f"up{i}"], [f"u{i}"]),
            helper.make_node("Relu", [f"u{i}"], [f"r{i}"]),
            helper.make_node("MatMul", [f"r{i}", f"down{i}"], [f"d{i}"]),
            helper.make_node("Add", [h, f"d{i}"], [f"h{i + 1}"]),
        ]
        h = f"h{i + 1}"
    ids = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"]) for n in ("input_ids", "attention_mask", "position_ids")]
    if a.logits_to_keep:
        # transformers: hidden_states[:, slice(-logits_to_keep, None), :] before the head (-0 is 0: every position).
        inits += [numpy_helper.from_array(np.array([0], np.int64), "axis0"), numpy_helper.from_array(np.array([np.iinfo(np.int64).max], np.int64), "end"),
                  numpy_helper.from_array(np.array([1], np.int64), "axis1d")]
        nodes += [helper.make_node("Neg", ["logits_to_keep"], ["keep_start"]),
                  helper.make_node("Unsqueeze", ["keep_start", "axis0"], ["keep_starts"]),
                  helper.make_node("Slice", [h, "keep_starts", "end", "axis1d"], ["kept"])]
        h = "kept"
        ids.append(helper.make_tensor_value_info("logits_to_keep", TensorProto.INT64, []))
    nodes.append(helper.make_node("MatMul", [h, "head"], ["logits"]))
    graph = helper.make_graph(nodes, "bench", ids, [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", a.vocab])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="gpuinfo make_bench_model.py")
    model.ir_version = 8
    onnx.save(model, a.out)
    print(f"{a.out}: vocab {a.vocab}, dim {a.dim}, hidden {a.hidden}, layers {a.layers}")


if __name__ == "__main__":
    main()
