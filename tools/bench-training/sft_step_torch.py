"""PyTorch CPU eager baseline for tools/bench-training (run with /usr/bin/python3).

The same LoRA SFT step as `sft/lora` on the same safetensors weights: a batched
float32 Llama forward (RMSNorm, rotary, causal GQA attention, SwiGLU, LM head),
LoRA on the given projections (base frozen), masked mean NLL of the response
tokens, backward, global-norm clipping, AdamW. Prints one JSON line:
{"version", "threads", "ms": [per step], "losses": [per step]}.

  python3 sft_step_torch.py <model folder> <batch> <length> <prompt length> <rank> <alpha> <targets,comma> <steps> <threads>
"""
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(data[8 + n + start : 8 + n + end], dtype=np.float32).reshape(info["shape"])
        out[name] = torch.from_numpy(array.copy())
    return out


def main():
    folder, batch, length, prompt, rank, alpha, targets, steps, threads = sys.argv[1:10]
    batch, length, prompt, rank, steps, threads = map(int, (batch, length, prompt, rank, steps, threads))
    alpha = float(alpha)
    targets = targets.split(",")
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = json.load(open(os.path.join(folder, "config.json")))
    w = read_safetensors(os.path.join(folder, "model.safetensors"))
    heads = cfg["num_attention_heads"]
    kv = cfg.get("num_key_value_heads", heads)
    hd = cfg.get("head_dim", cfg["hidden_size"] // heads)
    eps = cfg["rms_norm_eps"]
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    lm_head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
    lora = {}
    for layer in range(cfg["num_hidden_layers"]):
        for t in targets:
            block = "mlp" if t in ("gate_proj", "up_proj", "down_proj") else "self_attn"
            name = f"model.layers.{layer}.{block}.{t}"
            out_f, in_f = w[name + ".weight"].shape
            a = ((torch.rand(rank, in_f) * 2 - 1) / math.sqrt(in_f)).requires_grad_()
            b = (torch.randn(out_f, rank) * 0.01).requires_grad_()
            lora[name] = (a, b)
    scale = alpha / rank
    params = [p for pair in lora.values() for p in pair]
    optimizer = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.0)

    ids = torch.tensor([[(r * 7919 + i * 31 + 3) % cfg["vocab_size"] for i in range(length)] for r in range(batch)])
    targets_t = torch.roll(ids, -1, dims=1)
    mask = torch.zeros(batch, length)
    mask[:, prompt - 1 : length - 1] = 1
    angles = torch.outer(torch.arange(length, dtype=torch.float32), inv)
    cos = torch.cat([angles, angles], -1).cos()
    sin = torch.cat([angles, angles], -1).sin()
    causal = torch.ones(length, length, dtype=torch.bool).tril()

    def rot(x):
        half = x.shape[-1] // 2
        return torch.cat([-x[..., half:], x[..., :half]], dim=-1)

    def proj(x, name):
        y = x @ w[name + ".weight"].T
        if name + ".bias" in w:
            y = y + w[name + ".bias"]
        if name in lora:
            a, b = lora[name]
            y = y + (x @ a.T @ b.T) * scale
        return y

    def norm(x, name):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w[name]

    def loss_fn():
        h = w["model.embed_tokens.weight"][ids]
        for layer in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{layer}"
            x = norm(h, p + ".input_layernorm.weight")
            q = proj(x, p + ".self_attn.q_proj").view(batch, length, heads, hd).transpose(1, 2)
            k = proj(x, p + ".self_attn.k_proj").view(batch, length, kv, hd).transpose(1, 2)
            v = proj(x, p + ".self_attn.v_proj").view(batch, length, kv, hd).transpose(1, 2)
            q = q * cos + rot(q) * sin
            k = k * cos + rot(k) * sin
            k = k.repeat_interleave(heads // kv, dim=1)
            v = v.repeat_interleave(heads // kv, dim=1)
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
            scores = scores.masked_fill(~causal, float("-inf"))
            att = torch.softmax(scores, dim=-1) @ v
            h = h + proj(att.transpose(1, 2).reshape(batch, length, -1), p + ".self_attn.o_proj")
            x = norm(h, p + ".post_attention_layernorm.weight")
            h = h + proj(torch.nn.functional.silu(proj(x, p + ".mlp.gate_proj")) * proj(x, p + ".mlp.up_proj"), p + ".mlp.down_proj")
        logits = norm(h, "model.norm.weight") @ lm_head.T
        logp = torch.log_softmax(logits, -1).gather(-1, targets_t[..., None])[..., 0]
        return -(logp * mask).sum() / mask.sum()

    ms, losses = [], []
    for _ in range(steps):
        t = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        ms.append((time.perf_counter() - t) * 1000)
        losses.append(float(loss))
    print(json.dumps({"version": torch.__version__, "threads": torch.get_num_threads(), "ms": ms, "losses": losses}))


if __name__ == "__main__":
    main()
