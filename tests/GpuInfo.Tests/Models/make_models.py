#!/usr/bin/python3
"""Builds the small ONNX language models, the tiny byte-level BPE tokenizer and the NumPy goldens
that the model tests (tests/GpuInfo.Tests/Models/) and `gpuinfo demo` use.

    /usr/bin/python3 tests/GpuInfo.Tests/Models/make_models.py     # needs numpy and onnx (apt-get install python3-onnx)

Everything is deterministic: rerunning it rewrites the same files. What it writes, beside itself:

- vocab.json, merges.txt: a GPT-2-style byte-level BPE (256 byte symbols, ids = byte values, then
  VOCAB - 256 merges learned from TRAIN_TEXT by the usual most-frequent-pair rule).
- bigram.onnx: logits[b, s, :] = TABLE[input_ids[b, s], :], a Gather into a [VOCAB, VOCAB] float32
  table whose entries are a closed form (bigram_logit below) that the C# tests recompute in float64.
- window.onnx: a model that uses the whole window: inputs input_ids, attention_mask, position_ids;
  h[s] = (sum_{j<=s} mask_j * E[id_j]) / (sum_{j<=s} mask_j) + P[position_ids[s]], logits = h W + c
  (CumSum and Div; E, P, W, c seeded random, float32). Its perplexity depends on the window, so it
  checks the sliding-window protocol.
- src/GpuInfo.Cli/Samples/: demo.onnx, a bigram model fitted to TRAIN_TEXT (add-0.1 smoothed
  log-probabilities) stored as float16 (fp16 logits), DEMO_TEXT as demo.txt, and a copy of the
  tokenizer: `gpuinfo demo` embeds them and scores the text with the model.
- window_past.onnx, bigram_merged.onnx: the two as optimum exports them with a KV cache (a model with
  past_key_values inputs; a merged decoder with an If on use_cache_branch), whose logits equal their
  twins' only when the past is empty and use_cache_branch false, as on a first step; bigram_keep.onnx,
  bigram.onnx with transformers' logits_to_keep input (the last n positions' logits; all for 0);
  bigram_padded.onnx, bigram.onnx with 12 padding classes (logit -60) after its 300; fixed_window.onnx,
  bigram.onnx that runs on windows of exactly 32 tokens (its causality cannot be checked on 4);
  past_scaled.onnx, bigram.onnx with a KV cache laid out as optimum's whose logits are scaled by 1 + the past's
  length (right only from an empty past: a past fed back must be refused).
- external_a/ and external_b/: window.onnx with its weights in window.onnx_data (as every model over
  2 GB keeps them), seeded 17 (window.onnx's own) and 18: two graph files alike byte for byte.
- bad_rank.onnx (logits [B, S]), small_vocab.onnx (vocabulary 100 < the tokenizer's 300),
  no_input_ids.onnx (its input is called "x"), token_type_ids.onnx (an input gpuinfo does not feed),
  int_past.onnx (an int64 past_key_values.0.key), noncausal.onnx (window.onnx's running mean taken
  over the tokens after each position), noncausal_batch_one.onnx (the same for a batch of 1 only),
  needs_past.onnx (reads its past's first token, so that an empty past fails), static_past.onnx (a past of fixed length 8): malformed models for the error tests;
  masked_token.onnx (bigram.onnx with token 7's logit -inf everywhere): a causal model that must open.
- sample.txt (TEST_TEXT), sample_tokens.npy (its ids under this script's BPE, which the .NET
  tokenizer must reproduce), and golden.json: sums of NLL over sample_tokens for each model and
  (context, stride), evaluated here in float64 with the Hugging Face sliding-window protocol.
"""
import json
import os
import re
from collections import Counter

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, "..", "..", "..", "src", "GpuInfo.Cli", "Samples")   # embedded in gpuinfo for its demo
VOCAB = 300
OPSET = 13

TRAIN_TEXT = """Information theory measures how much a message surprises its reader. A model of language
assigns a probability to every next token, and the cross-entropy of a text under the model is the
average surprise, in nats or in bits, of the tokens that really came. Perplexity is the exponential
of that average: the number of equally likely choices that would surprise a reader as much. A good
model has a low perplexity on text it has not seen. Two models can be compared token by token: the
Kullback-Leibler divergence from one to the other says how many extra nats a reader pays for using
the second model's predictions where the first model's were right. Quantization, pruning and
distillation all change a model's predictions a little, and the divergence says how much. The
entropy of a prediction says how sure the model was; the rank of the true token says how close it
came. Bits per byte divide the total surprise by the size of the text, so that models with different
tokenizers can be compared on the same text. A sliding window gives each token the same amount of
left context, except the first ones, which have less. The larger the stride, the fewer the windows
and the less context the tokens in each window get. The text is read once, the windows run through
the model, and the logits go straight into the measures, so that nothing of vocabulary size is
ever written to a disk.
"""

TEST_TEXT = """The model reads a window of tokens and predicts each next one. Its surprise at the true
token is the negative log-likelihood, and the mean over all tokens gives the cross-entropy of the
text. Perplexity is its exponential. With a stride smaller than the window, the windows overlap,
and every token is scored once, with the context of the window before it. Caf\u00e9 na\u00efve \u00fcber \u2014 bytes!
"""

DEMO_TEXT = """A language model assigns a probability to every next token. The surprise of the tokens that
really came, averaged over a text, is its cross-entropy, and perplexity is the exponential of it.
"""


def bytes_to_unicode():
    """GPT-2's map from bytes to printable characters (byte-level BPE's alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_ENCODER = bytes_to_unicode()
# GPT-2's pre-tokenizer on ASCII letters and digits (its \p{L} / \p{N} classes; the texts here are
# ASCII apart from a few Latin letters, which the class below covers too).
PRETOKEN = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+""")


def pretokens(text):
    return ["".join(BYTE_ENCODER[b] for b in w.encode("utf-8")) for w in PRETOKEN.findall(text)]


def train_bpe(text, vocab_size):
    words = Counter(tuple(w) for w in pretokens(text))
    merges = []
    while 256 + len(merges) < vocab_size:
        pairs = Counter()
        for word, count in words.items():
            for a, b in zip(word, word[1:]):
                pairs[(a, b)] += count
        if not pairs:
            raise SystemExit("the training text has too few pairs for the vocabulary")
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        merged = {}
        for word, count in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + count
        words = merged
    vocab = {BYTE_ENCODER[b]: b for b in range(256)}
    for i, (a, b) in enumerate(merges):
        vocab[a + b] = 256 + i
    return vocab, merges


def encode(text, vocab, merges):
    ranks = {pair: i for i, pair in enumerate(merges)}
    ids = []
    for piece in pretokens(text):
        word = list(piece)
        while len(word) > 1:
            pairs = [(ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(word, word[1:]))]
            rank, i = min(pairs)
            if rank == 1 << 30:
                break
            word[i:i + 2] = [word[i] + word[i + 1]]
        ids.extend(vocab[w] for w in word)
    return ids


def bigram_table(vocab):
    """The closed form of bigram.onnx's table: computed in float64, rounded to float32 (BigramClosedForm.cs mirrors it)."""
    i = np.arange(vocab, dtype=np.float64)[:, None]
    j = np.arange(vocab, dtype=np.float64)[None, :]
    return (3.0 * np.sin(0.37 * i + 1.3 * j) + np.mod(7 * i + 13 * j, 17) / 5.0 - 0.004 * j).astype(np.float32)


def save(graph, name, folder=HERE, external_data=None):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="gpuinfo make_models.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(folder, exist_ok=True)
    if external_data:
        if os.path.exists(os.path.join(folder, external_data)):
            os.remove(os.path.join(folder, external_data))   # onnx appends to an existing data file
        onnx.save(model, os.path.join(folder, name), save_as_external_data=True, all_tensors_to_one_file=True, location=external_data, size_threshold=1024)
    else:
        onnx.save(model, os.path.join(folder, name))


def ids_input(name="input_ids"):
    return helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])


def bigram_graph(table, elem=TensorProto.FLOAT, inputs="input_ids", name="bigram"):
    vocab = table.shape[1]
    return helper.make_graph(
        [helper.make_node("Gather", ["table", inputs], ["logits"], axis=0)],
        name, [ids_input(inputs)],
        [helper.make_tensor_value_info("logits", elem, ["batch", "sequence", vocab])],
        [numpy_helper.from_array(table, "table")])


def window_weights(vocab, dim=16, positions=64, seed=17):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 1.0, (vocab, dim)).astype(np.float32),
            rng.normal(0, 0.3, (positions, dim)).astype(np.float32),
            rng.normal(0, 0.8, (dim, vocab)).astype(np.float32),
            rng.normal(0, 0.5, (vocab,)).astype(np.float32))


def window_graph(vocab, seed=17):
    e, p, w, c = window_weights(vocab, seed=seed)
    nodes = [
        helper.make_node("Gather", ["embed", "input_ids"], ["x"], axis=0),                  # [B,S,d]
        helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),       # [B,S]
        helper.make_node("Unsqueeze", ["mask", "axis2"], ["mask3"]),                        # [B,S,1]
        helper.make_node("Mul", ["x", "mask3"], ["xm"]),
        helper.make_node("CumSum", ["xm", "axis1"], ["sums"]),                              # [B,S,d]
        helper.make_node("CumSum", ["mask3", "axis1"], ["counts"]),                         # [B,S,1]
        helper.make_node("Div", ["sums", "counts"], ["mean"]),
        helper.make_node("Gather", ["pos", "position_ids"], ["pe"], axis=0),                # [B,S,d]
        helper.make_node("Add", ["mean", "pe"], ["h"]),
        helper.make_node("MatMul", ["h", "head"], ["hw"]),
        helper.make_node("Add", ["hw", "bias"], ["logits"]),
    ]
    inits = [numpy_helper.from_array(a, n) for a, n in ((e, "embed"), (p, "pos"), (w, "head"), (c, "bias"))]
    inits += [numpy_helper.from_array(np.array(1, np.int64), "axis1"), numpy_helper.from_array(np.array([2], np.int64), "axis2")]
    return helper.make_graph(nodes, "window", [ids_input(), ids_input("attention_mask"), ids_input("position_ids")],
                             [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", vocab])], inits)


def past_input(name, elem, heads, head_dim):
    return helper.make_tensor_value_info(name, elem, ["batch_size", heads, "past_sequence_length", head_dim])


def noncausal_graph(vocab):
    """window.onnx with its running mean taken over the tokens after each position instead (CumSum
    reverse): a model that sees the future, which gpuinfo must refuse."""
    graph = window_graph(vocab)
    for node in graph.node:
        if node.op_type == "CumSum":
            node.attribute.append(helper.make_attribute("reverse", 1))
    graph.name = "noncausal"
    return graph


def window_past_graph(vocab, layers=2, heads=2):
    """window.onnx as optimum exports a decoder with its KV cache (text-generation-with-past): it also
    takes past_key_values.{i}.key/value [batch, heads, past, head_dim] (float32) and returns
    present.{i}.* = Concat(past, this window's keys, axis 2). Its logits are window.onnx's times
    1 + sum(past_key_values.0.key) + the past's length, so they equal them only when the past is
    empty, as a first step's (a scale, since softmax does not see a shift)."""
    graph = window_graph(vocab)
    head_dim = 16 // heads
    nodes = list(graph.node)
    nodes[-1].output[0] = "plain_logits"
    inits = list(graph.initializer) + [numpy_helper.from_array(np.array([0, 0, heads, head_dim], np.int64), "kv_shape"),
                                       numpy_helper.from_array(np.array([1, 2, 3], np.int64), "past_axes"),
                                       numpy_helper.from_array(np.array([-1, 1, 1], np.int64), "offset_shape")]
    nodes += [helper.make_node("Reshape", ["x", "kv_shape"], ["kv4"]),                     # [B,S,H,D]
              helper.make_node("Transpose", ["kv4"], ["kv"], perm=[0, 2, 1, 3])]           # [B,H,S,D]
    inputs = list(graph.input)
    outputs = list(graph.output)
    for layer in range(layers):
        for part in ("key", "value"):
            name = f"past_key_values.{layer}.{part}"
            inputs.append(past_input(name, TensorProto.FLOAT, heads, head_dim))
            nodes.append(helper.make_node("Concat", [name, "kv"], [f"present.{layer}.{part}"], axis=2))
            outputs.append(helper.make_tensor_value_info(f"present.{layer}.{part}", TensorProto.FLOAT, ["batch_size", heads, "total_sequence_length", head_dim]))
    nodes += [helper.make_node("ReduceSum", ["past_key_values.0.key", "past_axes"], ["past_sum"], keepdims=0),   # [B], 0 when empty
              helper.make_node("Shape", ["past_key_values.0.key"], ["past_shape"]),
              helper.make_node("Gather", ["past_shape", "two"], ["past_length"], axis=0),
              helper.make_node("Cast", ["past_length"], ["past_length_f"], to=TensorProto.FLOAT),
              helper.make_node("Add", ["past_sum", "past_length_f"], ["offset"]),
              helper.make_node("Add", ["offset", "one"], ["factor"]),
              helper.make_node("Reshape", ["factor", "offset_shape"], ["factor3"]),
              helper.make_node("Mul", ["plain_logits", "factor3"], ["logits"])]
    inits += [numpy_helper.from_array(np.array(2, np.int64), "two"), numpy_helper.from_array(np.array(1, np.float32), "one")]
    return helper.make_graph(nodes, "window_past", inputs, outputs, inits)


def bigram_merged_graph(table, heads=2, head_dim=4):
    """bigram.onnx as optimum's merged decoder (decoder_model_merged.onnx): an If on use_cache_branch
    picks the branch with past (its logits halved, as if the past mattered) or without; it also
    takes an attention_mask and float16 past_key_values.0.key/value, and returns present.0.*."""
    vocab = table.shape[1]
    logits_info = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", vocab])

    def branch(name, scale):
        nodes = [helper.make_node("Gather", ["table", "input_ids"], [f"{name}_rows"], axis=0),
                 helper.make_node("Mul", [f"{name}_rows", f"{name}_scale"], [f"{name}_logits"])]
        return helper.make_graph(nodes, name, [], [helper.make_tensor_value_info(f"{name}_logits", TensorProto.FLOAT, ["batch", "sequence", vocab])],
                                 [numpy_helper.from_array(np.array(scale, np.float32), f"{name}_scale")])

    inputs = [ids_input(), ids_input("attention_mask")]
    nodes = [helper.make_node("If", ["use_cache_branch"], ["logits"], then_branch=branch("with_past", 0.5), else_branch=branch("without_past", 1.0))]
    outputs = [logits_info]
    for part in ("key", "value"):
        name = f"past_key_values.0.{part}"
        inputs.append(past_input(name, TensorProto.FLOAT16, heads, head_dim))
        nodes.append(helper.make_node("Concat", [name, name], [f"present.0.{part}"], axis=2))
        outputs.append(helper.make_tensor_value_info(f"present.0.{part}", TensorProto.FLOAT16, ["batch_size", heads, "total_sequence_length", head_dim]))
    inputs.append(helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1]))
    return helper.make_graph(nodes, "bigram_merged", inputs, outputs, [numpy_helper.from_array(table, "table")])


def past_scaled_graph(table, heads=2, head_dim=4):
    """bigram.onnx with a KV cache laid out as optimum's (past_key_values.0.key/value float32 [batch, heads, past,
    head_dim] in, present.0.* = Concat(past, this window's keys) out, an attention_mask over both) whose logits are
    bigram's times 1 + the past's length: right from an empty past, wrong from any other, so a past fed back is
    refused (PrefixSharingTests)."""
    rng = np.random.default_rng(19)
    kv_table = rng.normal(0, 1, (table.shape[0], heads * head_dim)).astype(np.float32)
    nodes = [helper.make_node("Gather", ["table", "input_ids"], ["rows"], axis=0),
             helper.make_node("Gather", ["kv_table", "input_ids"], ["kv3"], axis=0),                 # [B,S,H*D]
             helper.make_node("Reshape", ["kv3", "kv_shape"], ["kv4"]),                              # [B,S,H,D]
             helper.make_node("Transpose", ["kv4"], ["kv"], perm=[0, 2, 1, 3]),                      # [B,H,S,D]
             helper.make_node("Shape", ["past_key_values.0.key"], ["past_shape"]),
             helper.make_node("Gather", ["past_shape", "two"], ["past_length"], axis=0),
             helper.make_node("Cast", ["past_length"], ["past_length_f"], to=TensorProto.FLOAT),
             helper.make_node("Add", ["past_length_f", "one"], ["factor"]),
             helper.make_node("Mul", ["rows", "factor"], ["logits"])]
    inputs = [ids_input(), ids_input("attention_mask")]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", table.shape[1]])]
    for part in ("key", "value"):
        name = f"past_key_values.0.{part}"
        inputs.append(past_input(name, TensorProto.FLOAT, heads, head_dim))
        nodes.append(helper.make_node("Concat", [name, "kv"], [f"present.0.{part}"], axis=2))
        outputs.append(helper.make_tensor_value_info(f"present.0.{part}", TensorProto.FLOAT, ["batch_size", heads, "total_sequence_length", head_dim]))
    inits = [numpy_helper.from_array(table, "table"), numpy_helper.from_array(kv_table, "kv_table"),
             numpy_helper.from_array(np.array([0, 0, heads, head_dim], np.int64), "kv_shape"),
             numpy_helper.from_array(np.array(2, np.int64), "two"), numpy_helper.from_array(np.array(1, np.float32), "one")]
    return helper.make_graph(nodes, "past_scaled", inputs, outputs, inits)


def bigram_keep_graph(table):
    """bigram.onnx with transformers' logits_to_keep (int64 scalar): only the last n positions'
    logits, every position's for n = 0 (Slice from -n)."""
    vocab = table.shape[1]
    nodes = [helper.make_node("Gather", ["table", "input_ids"], ["rows"], axis=0),
             helper.make_node("Neg", ["logits_to_keep"], ["start"]),
             helper.make_node("Unsqueeze", ["start", "axis0"], ["starts"]),
             helper.make_node("Slice", ["rows", "starts", "ends", "axis1"], ["logits"])]
    inits = [numpy_helper.from_array(table, "table"), numpy_helper.from_array(np.array([0], np.int64), "axis0"),
             numpy_helper.from_array(np.array([np.iinfo(np.int64).max], np.int64), "ends"), numpy_helper.from_array(np.array([1], np.int64), "axis1")]
    return helper.make_graph(nodes, "bigram_keep", [ids_input(), helper.make_tensor_value_info("logits_to_keep", TensorProto.INT64, [])],
                             [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "kept", vocab])], inits)


def log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def window_logits(ids):
    """window.onnx's logits for one window of ids (float64)."""
    e, p, w, c = (a.astype(np.float64) for a in window_weights(VOCAB))
    x = e[ids]
    mean = np.cumsum(x, axis=0) / np.arange(1, len(ids) + 1)[:, None]
    return (mean + p[np.arange(len(ids))]) @ w + c


def sliding_nll(ids, context, stride, logits_of):
    """The Hugging Face perplexity guide's loop: each token after the first scored once."""
    total, count, prev_end = 0.0, 0, 0
    for begin in range(0, len(ids), stride):
        end = min(begin + context, len(ids))
        trg = end - prev_end
        window = ids[begin:end]
        lp = log_softmax(logits_of(window))
        first = max(len(window) - trg, 1)          # window positions whose token is scored
        for t in range(first, len(window)):
            total -= lp[t - 1, window[t]]
            count += 1
        prev_end = end
        if end == len(ids):
            break
    return total, count


def rolling_nll(doc, prefix, max_length, logits_of):
    """lm-evaluation-harness's loglikelihood_rolling of one document as its HFLM runs it (lm_eval/utils.py,
    get_rolling_token_windows with context_len=1 and make_disjoint_window; the model input is
    (context + continuation)[-(max_length + 1):][:-1], whose last len(continuation) logits score the
    continuation), transcribed: the NLL summed over every token of the document and how many."""
    windows, predicted = [], 0
    first = min(max_length, len(doc))
    windows.append(([prefix] + doc[:first - 1], doc[:first]))
    predicted += first
    while predicted < len(doc):
        pred_len = min(len(doc) - predicted, max_length)
        end = predicted + pred_len
        windows.append((doc[end - max_length - 1:end - 1], doc[end - pred_len:end]))
        predicted += pred_len
    total, count = 0.0, 0
    for a, b in windows:
        context = a[:len(a) - (len(b) - 1)]
        inp = (context + b)[-(max_length + 1):][:-1]
        lp = log_softmax(logits_of(inp))[len(inp) - len(b):]
        total -= sum(lp[j, t] for j, t in enumerate(b))
        count += len(b)
    return total, count


def chunks_nll(ids, n_ctx, bos, logits_of):
    """llama.cpp's llama-perplexity (tools/perplexity/perplexity.cpp, perplexity() without --ppl-stride),
    transcribed: len(ids) // n_ctx chunks of n_ctx tokens, the first token of each replaced by BOS when
    there is one, and the logits at positions n_ctx/2 ... n_ctx - 2 scoring the next token of each."""
    total, count, first = 0.0, 0, n_ctx // 2
    for i in range(len(ids) // n_ctx):
        start = i * n_ctx
        chunk = list(ids[start:start + n_ctx])
        if bos is not None:
            chunk[0] = bos
        lp = log_softmax(logits_of(chunk))
        for j in range(first, n_ctx - 1):
            total -= lp[j, ids[start + j + 1]]
            count += 1
    return total, count


# Documents for the protocols over several documents (documents.jsonl): the first starts with a space
# and ends with a line break (lm-evaluation-harness's count_words counts an empty piece for each), the
# second is shorter than any window, the third longer than two.
DOCUMENTS = [" " + TEST_TEXT.split("\n")[0] + "\n", "Perplexity is its exponential.", "\n".join(TEST_TEXT.split("\n")[1:])]
DOCUMENT_PREFIX = 0


def main():
    vocab, merges = train_bpe(TRAIN_TEXT, VOCAB)
    for folder in (HERE, SAMPLES):
        with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(vocab, f, ensure_ascii=False, indent=0, sort_keys=True)
        with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n")
            f.writelines(f"{a} {b}\n" for a, b in merges)

    table = bigram_table(VOCAB)
    save(bigram_graph(table), "bigram.onnx")
    save(window_graph(VOCAB), "window.onnx")
    save(window_past_graph(VOCAB), "window_past.onnx")
    save(bigram_merged_graph(table), "bigram_merged.onnx")
    save(bigram_keep_graph(table), "bigram_keep.onnx")
    save(past_scaled_graph(table), "past_scaled.onnx")
    save(bigram_graph(np.concatenate([table, np.full((VOCAB, 12), -60, np.float32)], axis=1), name="bigram_padded"), "bigram_padded.onnx")
    fixed = bigram_graph(table, name="fixed_window")
    fixed.input[0].type.tensor_type.shape.dim[1].dim_value = 32
    fixed.node.insert(0, helper.make_node("Reshape", ["input_ids", "fixed_shape"], ["fixed_ids"]))   # fails on other lengths
    fixed.node[1].input[1] = "fixed_ids"
    fixed.initializer.append(numpy_helper.from_array(np.array([-1, 32], np.int64), "fixed_shape"))
    save(fixed, "fixed_window.onnx")
    save(noncausal_graph(VOCAB), "noncausal.onnx")
    batch_one = noncausal_graph(VOCAB)
    for value in batch_one.input:
        value.type.tensor_type.shape.dim[0].dim_value = 1
    save(batch_one, "noncausal_batch_one.onnx")
    needs_past = bigram_graph(bigram_table(VOCAB), name="needs_past")
    needs_past.node[0].output[0] = "rows"
    needs_past.input.append(past_input("past_key_values.0.key", TensorProto.FLOAT, 2, 4))
    needs_past.initializer.extend([numpy_helper.from_array(np.array([0], np.int64), "first"),
                                   numpy_helper.from_array(np.array([1, 2, 3], np.int64), "past_axes"),
                                   numpy_helper.from_array(np.array([-1, 1, 1], np.int64), "offset_shape")])
    needs_past.node.extend([helper.make_node("Gather", ["past_key_values.0.key", "first"], ["oldest"], axis=2),   # fails on an empty past
                            helper.make_node("ReduceSum", ["oldest", "past_axes"], ["oldest_sum"], keepdims=0),
                            helper.make_node("Reshape", ["oldest_sum", "offset_shape"], ["offset"]),
                            helper.make_node("Add", ["rows", "offset"], ["logits"])])
    save(needs_past, "needs_past.onnx")
    static = bigram_graph(bigram_table(VOCAB)[:20], name="static_past")
    static.input.append(helper.make_tensor_value_info("past_key_values.0.key", TensorProto.FLOAT, ["batch_size", 2, 8, 4]))
    save(static, "static_past.onnx")
    masked = bigram_table(VOCAB)
    masked[:, 7] = -np.inf
    save(bigram_graph(masked, name="masked_token"), "masked_token.onnx")
    for folder, seed in (("external_a", 17), ("external_b", 18)):
        save(window_graph(VOCAB, seed), "window.onnx", os.path.join(HERE, folder), external_data="window.onnx_data")

    train_ids = encode(TRAIN_TEXT, vocab, merges)
    counts = np.full((VOCAB, VOCAB), 0.1)
    for a, b in zip(train_ids, train_ids[1:]):
        counts[a, b] += 1
    demo = np.log(counts / counts.sum(axis=1, keepdims=True)).astype(np.float16)
    save(bigram_graph(demo, TensorProto.FLOAT16, name="demo"), "demo.onnx", SAMPLES)

    save(helper.make_graph([helper.make_node("Gather", ["row", "input_ids"], ["logits"], axis=0)], "bad_rank", [ids_input()],
                           [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence"])],
                           [numpy_helper.from_array(np.zeros(VOCAB, np.float32), "row")]), "bad_rank.onnx")
    save(bigram_graph(bigram_table(100), name="small_vocab"), "small_vocab.onnx")
    save(bigram_graph(bigram_table(VOCAB)[:20], inputs="x", name="no_input_ids"), "no_input_ids.onnx")
    for name, extra in (("token_type_ids", ids_input("token_type_ids")),
                        ("int_past", helper.make_tensor_value_info("past_key_values.0.key", TensorProto.INT64, ["batch_size", 2, "past_sequence_length", 4]))):
        graph = bigram_graph(bigram_table(VOCAB)[:20], name=name)
        graph.input.append(extra)
        save(graph, f"{name}.onnx")

    with open(os.path.join(HERE, "sample.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write(TEST_TEXT)
    with open(os.path.join(SAMPLES, "demo.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write(DEMO_TEXT)
    ids = encode(TEST_TEXT, vocab, merges)
    np.save(os.path.join(HERE, "sample_tokens.npy"), np.array(ids, dtype=np.int64))

    table64 = table.astype(np.float64)
    golden = {"tokens": len(ids), "text_bytes": len(TEST_TEXT.encode("utf-8")), "runs": []}
    for model, logits_of in (("bigram", lambda w: table64[w]), ("window", window_logits)):
        for context, stride in ((32, 32), (32, 8), (48, 13)):
            total, count = sliding_nll(ids, context, stride, logits_of)
            golden["runs"].append({"model": model, "context": context, "stride": stride, "scored": count,
                                   "nll_sum": total, "mean_nll": total / count, "perplexity": float(np.exp(total / count))})
    # Several documents, each on its own: lm-evaluation-harness's rolling windows with a prefix token
    # (its word_perplexity, byte_perplexity and bits_per_byte from count_words and count_bytes), and the
    # guide's sliding windows with and without one.
    with open(os.path.join(HERE, "documents.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for doc in DOCUMENTS:
            f.write(json.dumps({"text": doc}) + "\n")
    docs = [encode(doc, vocab, merges) for doc in DOCUMENTS]
    golden["documents"] = {"prefix_token": DOCUMENT_PREFIX, "tokens": [len(d) for d in docs],
                           "words": sum(len(re.split(r"\s+", doc)) for doc in DOCUMENTS),
                           "bytes": sum(len(doc.encode("utf-8")) for doc in DOCUMENTS), "runs": []}
    for model, logits_of in (("bigram", lambda w: table64[w]), ("window", window_logits)):
        for protocol, context, stride, prefix in (("rolling", 16, 16, True), ("rolling", 40, 40, True),
                                                  ("sliding", 16, 5, False), ("sliding", 16, 16, True),
                                                  ("chunks", 16, 16, True), ("chunks", 10, 10, False)):
            total, count = 0.0, 0
            for d in docs:
                if protocol == "rolling":
                    t, c = rolling_nll(d, DOCUMENT_PREFIX, context, logits_of)
                elif protocol == "chunks":
                    t, c = chunks_nll([DOCUMENT_PREFIX] + d if prefix else d, context, DOCUMENT_PREFIX if prefix else None, logits_of)
                else:
                    t, c = sliding_nll([DOCUMENT_PREFIX] + d if prefix else d, context, stride, logits_of)
                total, count = total + t, count + c
            golden["documents"]["runs"].append({"model": model, "protocol": protocol, "context": context, "stride": stride,
                                                "prefix": prefix, "scored": count, "nll_sum": total})
    # A llama.cpp base as llama-perplexity --kl-divergence-base would write it for window.onnx (ConvertCommand
    # makes the .kld): BOS 0 and the sample's first 47 ids in 3 chunks of 16, each chunk's first input the BOS.
    chunk_tokens = np.array([0] + ids[:47], dtype=np.int32).reshape(3, 16)
    chunk_logits = np.stack([window_logits([0] + list(chunk[1:])) for chunk in chunk_tokens]).astype(np.float32)
    np.save(os.path.join(HERE, "chunks_tokens.npy"), chunk_tokens)
    np.save(os.path.join(HERE, "chunks_logits.npy"), chunk_logits)
    with open(os.path.join(HERE, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print(f"{len(ids)} sample tokens; models and goldens written to {HERE}")


if __name__ == "__main__":
    main()
