#!/usr/bin/env python3
"""Tiny Llama-family sequence classifiers (Llama- and Qwen3-based reward models,
e.g. Skywork-Reward-V2-Qwen3) and golden scores from an independent float64
PyTorch forward.

tiny-qwen3-classifier/ is the same check for Qwen3ForSequenceClassification
(per-head q/k RMSNorm before rotary, head_dim 16 with 4 heads over a hidden size
of 32, transformers 5's rope_parameters): golden-qwen3.json.

tiny-gemma2-classifier/ checks Gemma2ForSequenceClassification (Skywork-Reward-Gemma-2
and GRM-Gemma2 reward models): norms before and after both branches scaling by
(1 + weight), a tanh-GELU MLP, embeddings x sqrt(hidden), query_pre_attn_scalar,
soft-capped attention scores (1.5, tight enough to bend them), a 4-token window on
the even layers, and a final_logit_softcapping that a classifier's score does NOT
get (only Gemma2ForCausalLM caps its logits): golden-gemma2.json. Its forward is the
LM golden's (tools/golden/llama/make_llama_golden.py, the hidden state before the LM
head) rather than a second copy of the Gemma layer here.

Reads tiny-llama-classifier/ in the Hugging Face layout of
LlamaForSequenceClassification, whose config.json (num_labels 1, pad_token_id) and
model.safetensors were written by OUR TypeScript tool (npx tsx
tools/tiny-model/make-tiny-scorers.ts), checks its layout, writes the
pytorch_model.bin copy with torch.save (trunk `model.*`, head `score.weight` without bias,
trunk `model.*`, head `score.weight` without bias, GQA 4 query / 2 kv heads)
and golden.json: right-padded token batches and the float64 scores read at each
row's last non-pad token, as transformers does. Plain torch (RMSNorm,
rotate_half rotary, GQA, causal + padding mask, SwiGLU); it shares no code with
the TypeScript trunk it checks.

Run (Debian python3-torch): /usr/bin/python3 tools/golden/llama-classifier/make_llama_classifier_golden.py
"""
import json
import math
import os
import sys
from collections import OrderedDict

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "gpt-neox"))
sys.dont_write_bytecode = True
from make_gpt_neox_golden import read_folder  # noqa: E402

D = torch.float64
CONFIG = dict(architectures=["LlamaForSequenceClassification"], model_type="llama", num_labels=1,
              hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
              vocab_size=80, rms_norm_eps=1e-6, rope_theta=10000.0, max_position_embeddings=64, tie_word_embeddings=False,
              bos_token_id=1, eos_token_id=2, pad_token_id=0, torch_dtype="float32")
QWEN3_CONFIG = dict(architectures=["Qwen3ForSequenceClassification"], model_type="qwen3", num_labels=1,
                    hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                    vocab_size=80, rms_norm_eps=1e-6, rope_parameters=dict(rope_type="default", rope_theta=1000000), max_position_embeddings=64,
                    use_sliding_window=False, sliding_window=None, layer_types=["full_attention", "full_attention"], attention_bias=False,
                    tie_word_embeddings=False, bos_token_id=None, eos_token_id=2, pad_token_id=0, torch_dtype="float32")
GEMMA2_CONFIG = dict(architectures=["Gemma2ForSequenceClassification"], model_type="gemma2", num_labels=1,
                     hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                     vocab_size=80, rms_norm_eps=1e-6, rope_theta=10000, max_position_embeddings=64, hidden_activation="gelu_pytorch_tanh",
                     query_pre_attn_scalar=24, sliding_window=4, attn_logit_softcapping=1.5, final_logit_softcapping=8, attention_bias=False,
                     tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=0, torch_dtype="float32")
# folder, config, golden file
CLASSIFIERS = [("tiny-llama-classifier", CONFIG, "golden.json"), ("tiny-qwen3-classifier", QWEN3_CONFIG, "golden-qwen3.json"),
               ("tiny-gemma2-classifier", GEMMA2_CONFIG, "golden-gemma2.json")]
BATCHES = [[[1, 17, 33, 2, 70, 41, 7], [1, 8, 3], [1, 60, 61, 62, 63]], [list(range(1, 30))]]


def head_dim(c):
    return c.get("head_dim", c["hidden_size"] // c["num_attention_heads"])


def rope_theta(c):
    return (c.get("rope_parameters") or {}).get("rope_theta", c.get("rope_theta", 10000.0))


def expected_shapes(c):
    h, i, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    hd = head_dim(c)
    q = c["num_attention_heads"] * hd
    kv = c["num_key_value_heads"] * hd
    shapes = OrderedDict([("model.embed_tokens.weight", (v, h))])
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}"
        shapes[f"{p}.input_layernorm.weight"] = (h,)
        shapes[f"{p}.self_attn.q_proj.weight"] = (q, h)
        shapes[f"{p}.self_attn.k_proj.weight"] = (kv, h)
        shapes[f"{p}.self_attn.v_proj.weight"] = (kv, h)
        if c["model_type"] == "qwen3":
            shapes[f"{p}.self_attn.q_norm.weight"] = (hd,)
            shapes[f"{p}.self_attn.k_norm.weight"] = (hd,)
        shapes[f"{p}.self_attn.o_proj.weight"] = (h, q)
        shapes[f"{p}.post_attention_layernorm.weight"] = (h,)
        shapes[f"{p}.mlp.gate_proj.weight"] = (i, h)
        shapes[f"{p}.mlp.up_proj.weight"] = (i, h)
        shapes[f"{p}.mlp.down_proj.weight"] = (h, i)
    shapes["model.norm.weight"] = (h,)
    shapes["score.weight"] = (c["num_labels"], h)
    return shapes


def forward(w, c, ids, mask):
    W = {k: v.to(D) for k, v in w.items()}
    b, s = ids.shape
    h, nh, nkv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    hd = head_dim(c)
    rms = lambda x, wt: wt * (x / torch.sqrt((x * x).mean(-1, keepdim=True) + c["rms_norm_eps"]))
    inv = 1.0 / (rope_theta(c) ** (torch.arange(0, hd, 2, dtype=D) / hd))
    freqs = torch.arange(s, dtype=D)[:, None] * inv[None, :]
    emb = torch.cat([freqs, freqs], -1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    rot = lambda x: torch.cat([-x[..., hd // 2:], x[..., :hd // 2]], -1)
    allowed = torch.tril(torch.ones(s, s, dtype=torch.bool))[None, None] & mask.bool()[:, None, None, :]
    x = W["model.embed_tokens.weight"][ids]
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}"
        a = rms(x, W[p + ".input_layernorm.weight"])
        q = (a @ W[p + ".self_attn.q_proj.weight"].T).view(b, s, nh, hd)
        k = (a @ W[p + ".self_attn.k_proj.weight"].T).view(b, s, nkv, hd)
        if c["model_type"] == "qwen3":  # RMSNorm over each head of q and k, before rotary
            q, k = rms(q, W[p + ".self_attn.q_norm.weight"]), rms(k, W[p + ".self_attn.k_norm.weight"])
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        v = (a @ W[p + ".self_attn.v_proj.weight"].T).view(b, s, nkv, hd).transpose(1, 2)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        k, v = k.repeat_interleave(nh // nkv, 1), v.repeat_interleave(nh // nkv, 1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        scores = scores.masked_fill(~allowed, torch.finfo(D).min)
        o = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(b, s, nh * hd)
        x = x + o @ W[p + ".self_attn.o_proj.weight"].T
        m = rms(x, W[p + ".post_attention_layernorm.weight"])
        gate = m @ W[p + ".mlp.gate_proj.weight"].T
        x = x + ((gate * torch.sigmoid(gate)) * (m @ W[p + ".mlp.up_proj.weight"].T)) @ W[p + ".mlp.down_proj.weight"].T
    x = rms(x, W["model.norm.weight"])
    per_token = x @ W["score.weight"].T
    last = (ids != c["pad_token_id"]).int().cumsum(1).argmax(1)  # last non-pad token
    return per_token[torch.arange(b), last]


def gemma_scores(folder, c, batch):
    """Each row's score at its last token from the LM golden's Gemma 2 forward (rows unpadded: causal, so padding after them changes nothing)."""
    sys.path.insert(0, os.path.join(HERE, "..", "llama"))
    from make_llama_golden import Llama  # noqa: E402

    model = Llama(folder)
    return [(model.hidden(row)[-1] @ model.w["score.weight"].T).tolist() for row in batch]


def main():
    for name, config, golden in CLASSIFIERS:
        folder = os.path.join(HERE, name)
        c, w = read_folder(folder)
        assert c == config, f"{name}/config.json differs from the config this script checks"
        gemma = config["model_type"] == "gemma2"
        if not gemma:  # the Gemma layout is the LM golden's to check (its loader asserts every tensor it reads)
            assert list(w) == list(expected_shapes(config)), "tensor names differ from the expected layout"
            for tensor, shape in expected_shapes(config).items():
                assert tuple(w[tensor].shape) == shape, (tensor, tuple(w[tensor].shape), shape)
        torch.save(w, os.path.join(folder, "pytorch_model.bin"))
        cases = []
        for batch in BATCHES:
            s = max(len(r) for r in batch)
            ids = torch.tensor([r + [config["pad_token_id"]] * (s - len(r)) for r in batch])
            mask = torch.tensor([[1] * len(r) + [0] * (s - len(r)) for r in batch])
            scores = gemma_scores(folder, config, batch) if gemma else forward(w, config, ids, mask).tolist()
            cases.append({"tokens": batch, "scores": scores})
        with open(os.path.join(HERE, golden), "w") as f:
            json.dump({"torch": torch.__version__, "dtype": "float64", "cases": cases}, f)
            f.write("\n")


if __name__ == "__main__":
    main()
