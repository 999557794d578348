"""Writes max_length_reference.json: lm-evaluation-harness's own resolve_max_length (lm_eval/models/utils.py, what
HFLM.max_length gives when no max_length is passed) over configs and tokenizer configs as exports write them
(config.json, tokenizer_config.json): GPT-2's n_positions, Llama's max_position_embeddings, Gemma 3's nested
text_config, a tokenizer's model_max_length, transformers' "unset" 1e30 written as a float and as an integer, nulls,
and nothing at all. The files' keys become the objects' attributes, as transformers' PretrainedConfig sets them (a
tokenizer without model_max_length has transformers' unset one, which the harness treats as no length).

    /usr/bin/python3 make_max_length_reference.py /tmp/lmeval   # a checkout of lm-evaluation-harness (git archive HEAD lm_eval)
"""
import json
import os
import sys
from types import SimpleNamespace

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

CASES = [
    ("gpt2", {"model_type": "gpt2", "n_positions": 1024, "n_ctx": 1024, "n_embd": 768}, {"model_max_length": 1024}),
    ("llama3", {"model_type": "llama", "max_position_embeddings": 131072, "rope_theta": 500000.0}, {"model_max_length": 131072}),
    ("gemma3", {"model_type": "gemma3", "text_config": {"max_position_embeddings": 131072}, "vision_config": {"image_size": 896}}, None),
    ("mpt", {"model_type": "mpt", "max_seq_len": 2048}, {"model_max_length": 4096}),
    ("bloom_unset_float", {"model_type": "bloom", "seq_length": 2048}, {"model_max_length": 1e30}),
    ("unset_integer", {"model_type": "x"}, {"model_max_length": 1000000000000000019884624838656}),
    ("no_tokenizer_length", {"model_type": "x"}, {"bos_token": "<s>"}),
    ("nothing", None, None),
    ("null_skipped", {"n_positions": None, "max_position_embeddings": 4096, "n_ctx": 512}, None),
    ("n_ctx_only", {"n_ctx": 512}, {"model_max_length": 4096}),
    ("text_config_null", {"text_config": None, "n_ctx": 512}, None),
    ("text_config_without_length", {"text_config": {"hidden_size": 64}, "max_position_embeddings": 8192}, {"model_max_length": 300}),
    ("float_length", {"max_position_embeddings": 4096.0}, None),
]


def namespace(value):
    return SimpleNamespace(**{k: namespace(v) for k, v in value.items()}) if isinstance(value, dict) else value


def main():
    import lmeval_checkout
    lmeval_checkout.use(sys.argv[1])
    from lm_eval.models.utils import resolve_max_length
    cases = []
    for name, config, tokenizer in CASES:
        expected = resolve_max_length(namespace(config) if config is not None else None, namespace(tokenizer) if tokenizer is not None else None)
        cases.append({"name": name, "config": config, "tokenizer_config": tokenizer, "max_length": expected})
    with open(os.path.join(HERE, "max_length_reference.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
