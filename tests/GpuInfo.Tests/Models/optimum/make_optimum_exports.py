"""Real exports by optimum's own exporter of two tiny random causal LMs, and their float64 reference.

The model tests check gpuinfo against these (OptimumExportTests): a GPT-2 (2 layers, 4 heads, width 64,
vocabulary 1000) and a Llama with grouped-query attention (2 layers, 4 query and 2 key/value heads),
built with torch.manual_seed(0), exported by optimum.exporters.onnx.main_export as `optimum-cli export
onnx` does (its validation against PyTorch passed for every file), and scored in float64 by PyTorch
over the Hugging Face perplexity guide's sliding windows (context/stride 64/32, 64/64, 100/37) on 300
random ids (ids.npy): reference.json. Kept beside this script, renamed:

    llama_gqa_with_past.onnx                 llama_gqa_past/model.onnx (task text-generation-with-past:
                                             past_key_values.* inputs, position_ids)
    gpt2_with_past.onnx                      gpt2_past/model.onnx
    gpt2_decoder_model_merged.onnx           gpt2_merged/decoder_model_merged.onnx (legacy=True: use_cache_branch)
    llama_gqa_decoder_with_past_model.onnx   llama_gqa_merged/decoder_with_past_model.onnx (legacy: meant for
                                             one token after a cache; over a window it attends to later
                                             tokens, which gpuinfo must refuse)

Made on 2026-12-06 without PyPI (unreachable from the machine): a venv over Debian's torch 1.13.1,
numpy 1.24.2 and onnx 1.12.0 (/usr/bin/python3 -m venv --system-site-packages); Debian's python3-regex,
-tqdm, -packaging, -filelock, -fsspec, -coloredlogs and -humanfriendly unpacked beside it; transformers
at upstream commit 0864dd3be (4.36.0.dev0, 2023-11-27), optimum v1.15.0 and huggingface_hub v0.19.4 from
source (pip install --no-deps --no-index); a pure-Python stand-in for safetensors (models saved as
pytorch_model.bin), and for the onnxruntime Python package (which optimum's export validation imports)
a shim that runs ONNX Runtime 1.30 from npm's onnxruntime-node. With PyPI at hand, pip install
transformers optimum onnxruntime (versions that accept torch 1.13) does the same. Run: python make.py,
with ROOT the output folder. Two departures from a plain model.double(): the default dtype is float64
while the reference runs (that transformers builds its causal mask with torch.full(..., finfo.min)
without a dtype), and Llama's rotary tables are recomputed in float64 (they are built in float32; the
sums move by 6e-8 to 1.1e-7 nats).
"""
import json, os, shutil, subprocess, sys
import numpy as np
import torch
import onnx
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM
from optimum.exporters.onnx import main_export

ROOT = "/tmp/hf_export"
WINDOWS = [(64, 32), (64, 64), (100, 37)]


def build(name):
    torch.manual_seed(0)
    if name == "gpt2":
        cfg = GPT2Config(n_layer=2, n_head=4, n_embd=64, vocab_size=1000, n_positions=128)
        m = GPT2LMHeadModel(cfg)
    else:
        cfg = LlamaConfig(num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, hidden_size=64,
                          intermediate_size=128, vocab_size=1000, max_position_embeddings=128)
        m = LlamaForCausalLM(cfg)
    m.eval()
    d = f"{ROOT}/{name}_hf"
    shutil.rmtree(d, ignore_errors=True)
    m.save_pretrained(d, safe_serialization=False)  # pytorch_model.bin (safetensors here is a local shim)
    return d


def dim_str(d):
    return d.dim_param if d.HasField("dim_param") else (str(d.dim_value) if d.HasField("dim_value") else "?")


def describe(path):
    m = onnx.load(path, load_external_data=False)
    T = onnx.TensorProto.DataType.Name
    def one(v):
        t = v.type.tensor_type
        return f"{v.name}: {T(t.elem_type)} [{', '.join(dim_str(d) for d in t.shape.dim)}]"
    ins = [one(v) for v in m.graph.input]
    outs = [one(v) for v in m.graph.output]
    print(f"\n== {path}  (opset {[o.version for o in m.opset_import if o.domain in ('', 'ai.onnx')]})")
    print("  inputs:\n    " + "\n    ".join(ins))
    print("  outputs:\n    " + "\n    ".join(outs))
    return ins, outs


def export(name, hf_dir):
    outs = {}
    for kind, task, legacy in [("past", "text-generation-with-past", False),
                               ("merged", "text-generation-with-past", True),
                               ("plain", "text-generation", False)]:
        out = f"{ROOT}/{name}_{kind}"
        shutil.rmtree(out, ignore_errors=True)
        # defaults as the CLI (incl. validation against PyTorch, run through the onnxruntime shim)
        main_export(model_name_or_path=hf_dir, output=out, task=task, legacy=legacy)
        outs[kind] = out
    return outs


def exact_rotary_f64(m64):
    """Llama's inv_freq / cos / sin buffers were computed in float32 at init; recompute them in float64."""
    for layer in m64.model.layers:
        rot = layer.self_attn.rotary_emb
        rot.inv_freq = 1.0 / (rot.base ** (torch.arange(0, rot.dim, 2, dtype=torch.float64) / rot.dim))
        rot._set_cos_sin_cache(seq_len=rot.max_position_embeddings, device=rot.inv_freq.device, dtype=torch.float64)


def sliding_nll(model, ids, context, stride):
    # default dtype float64 while running: this transformers commit builds the causal mask with
    # torch.full(..., finfo(float64).min) without dtype, which overflows float32 on torch 1.13.
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return _sliding_nll(model, ids, context, stride)
    finally:
        torch.set_default_dtype(old)


def _sliding_nll(model, ids, context, stride):
    n = len(ids)
    nll_sum, scored, prev_end = 0.0, 0, 0
    for begin in range(0, n, stride):
        end = min(begin + context, n)
        trg_len = end - prev_end
        window = torch.tensor(ids[begin:end], dtype=torch.long)[None]
        labels = window.clone()
        labels[:, : window.shape[1] - trg_len] = -100
        with torch.no_grad():
            logits = model(window).logits[0].double()
        logp = torch.log_softmax(logits[:-1], dim=-1)
        tgt = labels[0, 1:]
        mask = tgt != -100
        nll = -logp[torch.arange(len(tgt)), window[0, 1:]]
        nll_sum += float(nll[mask].sum())
        scored += int(mask.sum())
        prev_end = end
        if end == n:
            break
    return {"nll_sum": nll_sum, "scored": scored, "mean_nll": nll_sum / scored}


def ort_check(onnx_path, ref, win):
    import onnxruntime as ort  # local shim -> real ORT 1.30 via onnxruntime-node
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    S = len(win)
    feeds = {}
    for i in sess.get_inputs():
        if i.name == "input_ids": feeds[i.name] = np.asarray([win], dtype=np.int64)
        elif i.name == "attention_mask": feeds[i.name] = np.ones((1, S), dtype=np.int64)
        elif i.name == "position_ids": feeds[i.name] = np.arange(S, dtype=np.int64)[None]
        elif i.name == "use_cache_branch": feeds[i.name] = np.array([False])
        elif i.name.startswith("past_key_values"):
            feeds[i.name] = np.zeros((1, i.shape[1], 0, i.shape[3]), dtype=np.float32)
        else: raise ValueError(i.name)
    ort_logits = sess.run(["logits"], feeds)[0]
    return float(np.abs(ort_logits - ref).max()), list(ort_logits.shape)


def main():
    ids = np.random.default_rng(1).integers(0, 1000, size=300).astype(np.int64)
    np.save(f"{ROOT}/ids.npy", ids)
    names = ["gpt2", "llama_gqa"]
    reference, models32, dirs = {}, {}, {}
    # All PyTorch reference work happens BEFORE any export: optimum 1.15's model patcher leaves
    # AttentionMaskConverter._make_causal_mask patched after exporting Llama (breaks float64 forward).
    for name in names:
        hf_dir = build(name)
        cls = GPT2LMHeadModel if name == "gpt2" else LlamaForCausalLM
        m64 = cls.from_pretrained(hf_dir).double().eval()
        plain = {f"{c}/{s}": sliding_nll(m64, ids.tolist(), c, s) for c, s in WINDOWS}
        if name.startswith("llama"):
            exact_rotary_f64(m64)
        reference[name] = {f"{c}/{s}": sliding_nll(m64, ids.tolist(), c, s) for c, s in WINDOWS}
        for k in plain:
            print(f"{name} {k}: nll_sum plain .double() = {plain[k]['nll_sum']!r}, float64 rotary = "
                  f"{reference[name][k]['nll_sum']!r}, diff = {plain[k]['nll_sum'] - reference[name][k]['nll_sum']:.3e}")
        models32[name] = cls.from_pretrained(hf_dir).float().eval()
    with open(f"{ROOT}/reference.json", "w") as f:
        json.dump(reference, f, indent=2)
    win = ids[:64].tolist()
    ref_logits = {}
    for name in names:
        with torch.no_grad():
            ref_logits[name] = models32[name](torch.tensor(win, dtype=torch.long)[None]).logits.numpy()
    for name in names:
        dirs[name] = export(name, f"{ROOT}/{name}_hf")
    for name in names:
        for kind, d in dirs[name].items():
            for f in sorted(os.listdir(d)):
                if f.endswith(".onnx"):
                    describe(os.path.join(d, f))
    checks = {}
    for name in names:
        for kind, fname in [("past", "model.onnx"), ("merged", "decoder_model_merged.onnx"), ("plain", "model.onnx")]:
            p = os.path.join(dirs[name][kind], fname)
            if os.path.exists(p):
                checks[f"{name}/{kind}/{fname}"] = ort_check(p, ref_logits[name], win)
    print("\nreference.json:\n" + json.dumps(reference, indent=2))
    print("\nORT 1.30 vs torch float32 logits, window ids[0:64], batch 1, empty past, mask=1, pos=0..63:")
    for k, (d, dims) in checks.items():
        print(f"  {k}: logits {dims} max|diff| = {d:.3e}")


if __name__ == "__main__":
    main()
