#!/usr/bin/env python3
"""Tiny T5 folders and golden first-decoder-step logits from an independent float64 PyTorch forward.

Reads two tiny random checkpoints in the Hugging Face layout whose config.json
and model.safetensors were written by OUR TypeScript tool (npx tsx
tools/tiny-model/make-tiny-scorers.ts), checks them against this script's own
config and tensor layout, and writes the pytorch_model.bin copy (torch.save):

  tiny-t5-v1_0/   T5 v1.0: ReLU feed-forward, tied embeddings (head on hidden * d_model^-0.5)
  tiny-t5-v1_1/   T5 v1.1: gated-GELU (gelu_new(wi_0 x) * wi_1 x), untied lm_head

and golden.json with right-padded encoder token batches and the float64 logits of
the first decoder step (decoder_start_token_id = 0), what UniEval reads. The
forward is plain torch (RMS layer norm, unscaled attention with relative
position buckets computed as transformers does, padding mask, cross-attention);
it shares no code with the TypeScript builder it checks.

Run (Debian python3-torch): /usr/bin/python3 tools/golden/t5/make_t5_golden.py
"""
import json
import math
import os
import struct
import sys
from collections import OrderedDict

import torch

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "gpt-neox"))
from make_gpt_neox_golden import read_folder  # noqa: E402

D = torch.float64
BASE = dict(d_model=32, d_kv=8, d_ff=48, num_layers=2, num_decoder_layers=2, num_heads=4, vocab_size=64,
            relative_attention_num_buckets=8, relative_attention_max_distance=20, layer_norm_epsilon=1e-6,
            decoder_start_token_id=0, pad_token_id=0, eos_token_id=1, model_type="t5", architectures=["T5ForConditionalGeneration"])
MODELS = {
    "tiny-t5-v1_0": dict(config=dict(BASE, feed_forward_proj="relu", tie_word_embeddings=True)),
    "tiny-t5-v1_1": dict(config=dict(BASE, feed_forward_proj="gated-gelu", tie_word_embeddings=False)),
}
BATCHES = [
    [[5, 17, 33, 2, 60, 41, 7, 1], [12, 8, 1], [40, 41, 42, 43, 44, 1]],
    [list(range(3, 40)) + [1]],  # 38 tokens: relative distances reach the logarithmic buckets
]


def shapes(c):
    inner = c["num_heads"] * c["d_kv"]
    out = OrderedDict([("shared.weight", (c["vocab_size"], c["d_model"]))])

    def attention(p):
        for m in ("q", "k", "v"):
            out[f"{p}.{m}.weight"] = (inner, c["d_model"])
        out[f"{p}.o.weight"] = (c["d_model"], inner)

    def ff(p):
        if c["feed_forward_proj"] == "relu":
            out[f"{p}.DenseReluDense.wi.weight"] = (c["d_ff"], c["d_model"])
        else:
            out[f"{p}.DenseReluDense.wi_0.weight"] = (c["d_ff"], c["d_model"])
            out[f"{p}.DenseReluDense.wi_1.weight"] = (c["d_ff"], c["d_model"])
        out[f"{p}.DenseReluDense.wo.weight"] = (c["d_model"], c["d_ff"])
        out[f"{p}.layer_norm.weight"] = (c["d_model"],)

    for stack, layers in (("encoder", c["num_layers"]), ("decoder", c["num_decoder_layers"])):
        for i in range(layers):
            p = f"{stack}.block.{i}.layer"
            attention(f"{p}.0.SelfAttention")
            if i == 0:
                out[f"{p}.0.SelfAttention.relative_attention_bias.weight"] = (c["relative_attention_num_buckets"], c["num_heads"])
            out[f"{p}.0.layer_norm.weight"] = (c["d_model"],)
            if stack == "decoder":
                attention(f"{p}.1.EncDecAttention")
                out[f"{p}.1.layer_norm.weight"] = (c["d_model"],)
                ff(f"{p}.2")
            else:
                ff(f"{p}.1")
        out[f"{stack}.final_layer_norm.weight"] = (c["d_model"],)
    if not c["tie_word_embeddings"]:
        out["lm_head.weight"] = (c["vocab_size"], c["d_model"])
    return out


def bucket(rel, bidirectional, num_buckets, max_distance):
    ret = torch.zeros_like(rel)
    if bidirectional:
        num_buckets //= 2
        ret += (rel > 0).to(torch.long) * num_buckets
        n = torch.abs(rel)
    else:
        n = -torch.min(rel, torch.zeros_like(rel))
    max_exact = num_buckets // 2
    is_small = n < max_exact
    large = max_exact + (torch.log(n.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)).to(torch.long)
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return ret + torch.where(is_small, n, large)


def rms(x, w, eps):
    return w * (x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps))


def attention(W, p, x, kv, c, mask, bias):
    b, sq, _ = x.shape
    sk = kv.shape[1]
    h, dk = c["num_heads"], c["d_kv"]
    split = lambda t, s: t.view(b, s, h, dk).transpose(1, 2)
    q = split(x @ W[p + ".q.weight"].T, sq)
    k = split(kv @ W[p + ".k.weight"].T, sk)
    v = split(kv @ W[p + ".v.weight"].T, sk)
    scores = q @ k.transpose(-1, -2)
    if bias is not None:
        scores = scores + bias
    scores = scores.masked_fill(~mask, torch.finfo(D).min)
    out = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(b, sq, h * dk)
    return out @ W[p + ".o.weight"].T


def ff(W, p, x, c):
    if c["feed_forward_proj"] == "relu":
        hdn = torch.relu(x @ W[p + ".DenseReluDense.wi.weight"].T)
    else:
        a = x @ W[p + ".DenseReluDense.wi_0.weight"].T
        gelu_new = 0.5 * a * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (a + 0.044715 * a ** 3)))
        hdn = gelu_new * (x @ W[p + ".DenseReluDense.wi_1.weight"].T)
    return hdn @ W[p + ".DenseReluDense.wo.weight"].T


def forward(w, c, ids, mask):
    W = {k: v.to(D) for k, v in w.items()}
    b, s = ids.shape
    eps, nb, md = c["layer_norm_epsilon"], c["relative_attention_num_buckets"], c["relative_attention_max_distance"]
    key_mask = mask.bool()[:, None, None, :]
    pos = torch.arange(s)
    enc_bias = W["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"][bucket(pos[None, :] - pos[:, None], True, nb, md)]
    enc_bias = enc_bias.permute(2, 0, 1)[None]
    x = W["shared.weight"][ids]
    for i in range(c["num_layers"]):
        p = f"encoder.block.{i}.layer"
        n = rms(x, W[p + ".0.layer_norm.weight"], eps)
        x = x + attention(W, p + ".0.SelfAttention", n, n, c, key_mask, enc_bias)
        x = x + ff(W, p + ".1", rms(x, W[p + ".1.layer_norm.weight"], eps), c)
    enc = rms(x, W["encoder.final_layer_norm.weight"], eps)
    d = W["shared.weight"][torch.full((b, 1), c["decoder_start_token_id"])]
    dec_bias = W["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"][bucket(torch.zeros(1, 1, dtype=torch.long), False, nb, md)]
    dec_bias = dec_bias.permute(2, 0, 1)[None]
    one = torch.ones(1, 1, 1, 1, dtype=torch.bool)
    for i in range(c["num_decoder_layers"]):
        p = f"decoder.block.{i}.layer"
        n = rms(d, W[p + ".0.layer_norm.weight"], eps)
        d = d + attention(W, p + ".0.SelfAttention", n, n, c, one, dec_bias)
        d = d + attention(W, p + ".1.EncDecAttention", rms(d, W[p + ".1.layer_norm.weight"], eps), enc, c, key_mask, None)
        d = d + ff(W, p + ".2", rms(d, W[p + ".2.layer_norm.weight"], eps), c)
    d = rms(d, W["decoder.final_layer_norm.weight"], eps)[:, 0]
    if c["tie_word_embeddings"]:
        return (d * c["d_model"] ** -0.5) @ W["shared.weight"].T
    return d @ W["lm_head.weight"].T


def main():
    golden = {}
    for name, spec in MODELS.items():
        folder = os.path.join(HERE, name)
        c, w = read_folder(folder)
        assert c == spec["config"], f"{name}/config.json differs from the config this script checks"
        assert sorted(w) == sorted(shapes(c)), f"{name}: tensor names differ from the expected layout"
        torch.save(w, os.path.join(folder, "pytorch_model.bin"))
        cases = []
        for batch in BATCHES:
            s = max(len(r) for r in batch)
            ids = torch.tensor([r + [c["pad_token_id"]] * (s - len(r)) for r in batch])
            mask = torch.tensor([[1] * len(r) + [0] * (s - len(r)) for r in batch])
            cases.append({"tokens": batch, "logits": forward(w, c, ids, mask).tolist()})
        golden[name] = {"cases": cases}
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump({"torch": torch.__version__, "dtype": "float64", "models": golden}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
