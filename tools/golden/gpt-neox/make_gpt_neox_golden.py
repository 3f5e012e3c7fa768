#!/usr/bin/env python3
"""Tiny GPT-NeoX scorer folders and golden scores from an independent float64 PyTorch forward.

Reads two tiny random checkpoints in the Hugging Face layout whose
config.json and model.safetensors were written by OUR TypeScript tool
(npx tsx tools/tiny-model/make-tiny-scorers.ts), checks their config and
tensor layout against this script's own, writes the pytorch_model.bin copy
(torch.save, the zip format transformers writes) and computes golden scores:

  tiny-gpt-neox-rm/   OpenAssistant GPTNeoXRewardModel: parallel residual,
                      rotary_pct 0.25, exact GELU, head out_proj (+bias),
                      "last" pooling (attention_mask.cumsum(1).argmax(1))
  tiny-gpt-neox-cls/  GPTNeoXForSequenceClassification: sequential residual,
                      rotary_pct 0.5, tanh GELU, head score (no bias, 2 labels),
                      pooled at the last non-pad token

and golden.json with, per model, right-padded token batches and the float64
logits. The forward is plain torch (LayerNorm, per-head fused qkv, partial
rotate_half rotary, causal + padding mask, GELU MLP); it shares no code with
the TypeScript builder it checks.

Run (Debian python3-torch): /usr/bin/python3 tools/golden/gpt-neox/make_gpt_neox_golden.py
"""
import json
import math
import os
import struct
from collections import OrderedDict

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
D = torch.float64

MODELS = {
    "tiny-gpt-neox-rm": dict(
        config=dict(architectures=["GPTNeoXRewardModel"], model_type="gpt_neox_reward_model", pooling="last",
                    hidden_size=32, num_attention_heads=4, num_hidden_layers=2, intermediate_size=64, vocab_size=96,
                    rotary_pct=0.25, rotary_emb_base=10000, layer_norm_eps=1e-5, use_parallel_residual=True,
                    hidden_act="gelu", max_position_embeddings=64, bos_token_id=0, eos_token_id=0, pad_token_id=1),
        head="reward"),
    "tiny-gpt-neox-cls": dict(
        config=dict(architectures=["GPTNeoXForSequenceClassification"], model_type="gpt_neox", num_labels=2,
                    id2label={"0": "LABEL_0", "1": "LABEL_1"},
                    hidden_size=32, num_attention_heads=2, num_hidden_layers=2, intermediate_size=48, vocab_size=96,
                    rotary_pct=0.5, rotary_emb_base=1000, layer_norm_eps=1e-5, use_parallel_residual=False,
                    hidden_act="gelu_new", max_position_embeddings=64, bos_token_id=0, eos_token_id=0, pad_token_id=1),
        head="classifier"),
}

BATCHES = [
    [[5, 17, 33, 2, 90, 41, 7], [12, 8, 3], [60, 61, 62, 63, 64]],
    [[0, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 0]],
]


def shapes(c, head):
    h, i, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    out = OrderedDict([("gpt_neox.embed_in.weight", (v, h))])
    for l in range(c["num_hidden_layers"]):
        p = f"gpt_neox.layers.{l}"
        for n in ("input_layernorm", "post_attention_layernorm"):
            out[f"{p}.{n}.weight"] = (h,)
            out[f"{p}.{n}.bias"] = (h,)
        for n, o, k in (("attention.query_key_value", 3 * h, h), ("attention.dense", h, h),
                        ("mlp.dense_h_to_4h", i, h), ("mlp.dense_4h_to_h", h, i)):
            out[f"{p}.{n}.weight"] = (o, k)
            out[f"{p}.{n}.bias"] = (o,)
    out["gpt_neox.final_layer_norm.weight"] = (h,)
    out["gpt_neox.final_layer_norm.bias"] = (h,)
    if head == "reward":
        out["out_proj.weight"] = (1, h)
        out["out_proj.bias"] = (1,)
    else:
        out["score.weight"] = (c["num_labels"], h)
    return out


def write_safetensors(path, weights):
    header, offset, blobs = {}, 0, []
    for name, t in weights.items():
        data = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header["__metadata__"] = {"format": "pt"}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """The tensors of an F32 safetensors file (written by our TypeScript tiny-model tool), in file order."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    out = OrderedDict()
    for name, h in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        assert h["dtype"] == "F32", (name, h["dtype"])
        a, b = h["data_offsets"]
        out[name] = torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=torch.float32).reshape(h["shape"]).clone()
    return out


def read_folder(folder):
    """config.json and model.safetensors of a folder written by tools/tiny-model/make-tiny-scorers.ts."""
    with open(os.path.join(folder, "config.json")) as f:
        c = json.load(f)
    return c, read_safetensors(os.path.join(folder, "model.safetensors"))


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def gelu(x, act):
    if act == "gelu":
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def rotary(x, positions, rd, base):
    if rd == 0:
        return x
    inv = 1.0 / (base ** (torch.arange(0, rd, 2, dtype=D) / rd))
    freqs = positions.to(D)[:, :, None] * inv[None, None, :]
    emb = torch.cat([freqs, freqs], -1)[:, None, :, :]
    cos, sin = emb.cos(), emb.sin()
    xr, xp = x[..., :rd], x[..., rd:]
    half = rd // 2
    turned = torch.cat([-xr[..., half:], xr[..., :half]], -1)
    return torch.cat([xr * cos + turned * sin, xp], -1)


def forward(w, c, head, ids, mask):
    W = {k: v.to(D) for k, v in w.items()}
    b, s = ids.shape
    h, nh = c["hidden_size"], c["num_attention_heads"]
    hd = h // nh
    rd = int(hd * c["rotary_pct"])
    eps = c["layer_norm_eps"]
    positions = torch.arange(s)[None, :].expand(b, s)
    allowed = torch.tril(torch.ones(s, s, dtype=torch.bool))[None, None] & mask.bool()[:, None, None, :]
    x = W["gpt_neox.embed_in.weight"][ids]
    lin = lambda t, n: t @ W[n + ".weight"].T + W[n + ".bias"]
    for l in range(c["num_hidden_layers"]):
        p = f"gpt_neox.layers.{l}"
        a_in = layer_norm(x, W[p + ".input_layernorm.weight"], W[p + ".input_layernorm.bias"], eps)
        qkv = lin(a_in, p + ".attention.query_key_value").view(b, s, nh, 3 * hd)
        q, k, v = (qkv[..., j * hd:(j + 1) * hd].permute(0, 2, 1, 3) for j in range(3))
        q, k = rotary(q, positions, rd, c["rotary_emb_base"]), rotary(k, positions, rd, c["rotary_emb_base"])
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        scores = scores.masked_fill(~allowed, torch.finfo(D).min)
        attn = (torch.softmax(scores, -1) @ v).permute(0, 2, 1, 3).reshape(b, s, h)
        attn = lin(attn, p + ".attention.dense")
        mlp = lambda t: lin(gelu(lin(t, p + ".mlp.dense_h_to_4h"), c["hidden_act"]), p + ".mlp.dense_4h_to_h")
        ln2 = lambda t: layer_norm(t, W[p + ".post_attention_layernorm.weight"], W[p + ".post_attention_layernorm.bias"], eps)
        if c["use_parallel_residual"]:
            x = x + attn + mlp(ln2(x))
        else:
            x = x + attn
            x = x + mlp(ln2(x))
    x = layer_norm(x, W["gpt_neox.final_layer_norm.weight"], W["gpt_neox.final_layer_norm.bias"], eps)
    if head == "reward":
        last = mask.cumsum(1).argmax(1)  # OASST "last" pooling
        pooled = x[torch.arange(b), last]
        return pooled @ W["out_proj.weight"].T + W["out_proj.bias"]
    last = (ids != c["pad_token_id"]).int().cumsum(1).argmax(1)  # last non-pad token
    return x[torch.arange(b), last] @ W["score.weight"].T


def main():
    golden = {}
    for name, spec in MODELS.items():
        folder = os.path.join(HERE, name)
        os.makedirs(folder, exist_ok=True)
        c, w = read_folder(folder)
        assert c == spec["config"], f"{name}/config.json differs from the config this script checks"
        assert list(w) == list(shapes(c, spec["head"])), f"{name}: tensor names differ from the expected layout"
        torch.save(w, os.path.join(folder, "pytorch_model.bin"))
        cases = []
        for batch in BATCHES:
            s = max(len(r) for r in batch)
            ids = torch.tensor([r + [c["pad_token_id"]] * (s - len(r)) for r in batch])
            mask = torch.tensor([[1] * len(r) + [0] * (s - len(r)) for r in batch])
            logits = forward(w, c, spec["head"], ids, mask)
            cases.append({"tokens": batch, "logits": logits.tolist()})
        golden[name] = {"head": spec["head"], "cases": cases}
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump({"torch": torch.__version__, "dtype": "float64", "models": golden}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
