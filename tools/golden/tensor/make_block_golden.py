#!/usr/bin/python3
"""Golden file for the PyTorch parity of the shipped Llama trunk (@refine-af/models `llamaTrunk`;
read by packages/models/test/llama-golden.test.ts and plugins/backend-onnx/test/torch-golden.test.ts).

A tiny Llama-style LM: embedding -> one decoder layer (RMSNorm, rotary GQA attention
with a causal mask, SwiGLU MLP) -> final RMSNorm -> LM head -> cross-entropy with
masked (prompt) positions, in float64 with fixed seeded weights and tokens. Writes
the weights, the loss, every parameter gradient, and the parameters after two
AdamW steps (with global-norm gradient clipping) on the same batch.

Written from the math (HF Llama conventions), not copied from any implementation.
Run: /usr/bin/python3 tools/golden/tensor/make_block_golden.py
(needs Debian's python3-torch: apt-get install -y python3-torch libopenblas0-pthread)
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
torch.manual_seed(20260524)

CONFIG = dict(vocab=32, hidden=16, num_heads=4, num_kv_heads=2, head_dim=4, intermediate=24,
              rms_norm_eps=1e-5, rope_theta=10000.0, batch=2, seq=6)
ADAMW = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, max_grad_norm=1.0, steps=2)
c = CONFIG
H, KV, D, E, I, V = c["num_heads"], c["num_kv_heads"], c["head_dim"], c["hidden"], c["intermediate"], c["vocab"]
L = "model.layers.0"

shapes = {
    "model.embed_tokens.weight": (V, E),
    f"{L}.input_layernorm.weight": (E,),
    f"{L}.self_attn.q_proj.weight": (H * D, E),
    f"{L}.self_attn.k_proj.weight": (KV * D, E),
    f"{L}.self_attn.v_proj.weight": (KV * D, E),
    f"{L}.self_attn.o_proj.weight": (E, H * D),
    f"{L}.post_attention_layernorm.weight": (E,),
    f"{L}.mlp.gate_proj.weight": (I, E),
    f"{L}.mlp.up_proj.weight": (I, E),
    f"{L}.mlp.down_proj.weight": (E, I),
    "model.norm.weight": (E,),
    "lm_head.weight": (V, E),
}
params = {}
for name, shape in shapes.items():
    if name.endswith("norm.weight"):
        params[name] = 1.0 + 0.1 * torch.randn(shape)
    elif "embed" in name:
        params[name] = 0.5 * torch.randn(shape)
    else:
        params[name] = torch.randn(shape) / math.sqrt(shape[1])
for p in params.values():
    p.requires_grad_(True)

tokens = torch.randint(0, V, (c["batch"], c["seq"] + 1))
inputs, targets = tokens[:, :-1], tokens[:, 1:]
mask = torch.ones(c["batch"], c["seq"])
mask[0, :2] = 0  # prompt tokens carry no loss
mask[1, :1] = 0


def rms_norm(x, w):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + c["rms_norm_eps"]))


def rotate_half(x):
    return torch.cat((-x[..., D // 2:], x[..., : D // 2]), dim=-1)


def forward(p):
    B, S = inputs.shape
    x = p["model.embed_tokens.weight"][inputs]
    h = rms_norm(x, p[f"{L}.input_layernorm.weight"])
    q = (h @ p[f"{L}.self_attn.q_proj.weight"].T).view(B, S, H, D).transpose(1, 2)
    k = (h @ p[f"{L}.self_attn.k_proj.weight"].T).view(B, S, KV, D).transpose(1, 2)
    v = (h @ p[f"{L}.self_attn.v_proj.weight"].T).view(B, S, KV, D).transpose(1, 2)
    inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, D, 2) / D))
    freqs = torch.arange(S)[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    q = q * cos + rotate_half(q) * sin
    k = k * cos + rotate_half(k) * sin
    k = k.repeat_interleave(H // KV, dim=1)
    v = v.repeat_interleave(H // KV, dim=1)
    scores = q @ k.transpose(-1, -2) / math.sqrt(D)
    causal = torch.ones(S, S, dtype=torch.bool).tril()
    scores = scores.masked_fill(~causal, float("-inf"))
    attn = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, S, H * D)
    x = x + attn @ p[f"{L}.self_attn.o_proj.weight"].T
    h = rms_norm(x, p[f"{L}.post_attention_layernorm.weight"])
    mlp = (F.silu(h @ p[f"{L}.mlp.gate_proj.weight"].T) * (h @ p[f"{L}.mlp.up_proj.weight"].T)) @ p[f"{L}.mlp.down_proj.weight"].T
    x = x + mlp
    logits = rms_norm(x, p["model.norm.weight"]) @ p["lm_head.weight"].T
    labels = targets.masked_fill(mask == 0, -100)
    return F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1), ignore_index=-100)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


loss = forward(params)
loss.backward()
golden = {
    "config": CONFIG,
    "inputs": inputs.reshape(-1).tolist(),
    "targets": targets.reshape(-1).tolist(),
    "mask": flat(mask),
    "params": {n: {"shape": list(shapes[n]), "data": flat(p)} for n, p in params.items()},
    "loss": float(loss),
    "grads": {n: flat(p.grad) for n, p in params.items()},
}

opt = torch.optim.AdamW(list(params.values()), lr=ADAMW["lr"], betas=(ADAMW["beta1"], ADAMW["beta2"]),
                        eps=ADAMW["eps"], weight_decay=ADAMW["weight_decay"])
steps = []
for step in range(ADAMW["steps"]):
    opt.zero_grad()
    step_loss = forward(params)
    step_loss.backward()
    torch.nn.utils.clip_grad_norm_(list(params.values()), ADAMW["max_grad_norm"])
    opt.step()
    steps.append({"loss": float(step_loss), "params": {n: flat(p) for n, p in params.items()}})
golden["adamw"] = {**ADAMW, "after_step": steps}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "block_golden.json")
with open(out, "w") as f:
    json.dump(golden, f, separators=(",", ":"))
print(f"wrote {out}: loss {float(loss):.6f}, {os.path.getsize(out)} bytes, torch {torch.__version__}")
