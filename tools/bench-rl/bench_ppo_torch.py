#!/usr/bin/env python3
"""Hand-written PyTorch (CPU, eager, float32) PPO step for tools/bench-rl: the same
safetensors Llama, LoRA on q_proj/v_proj, a scalar value head, the same shapes as
the TypeScript side. Phases timed like ppo/train: sample (KV-cache sampling,
temperature 1), evaluate (policy with values + entropy, reference = LoRA off),
train (GAE-free fixed advantages; clipped surrogate + clipped value loss, backward,
AdamW, per minibatch). Prints one JSON object.

Usage: python3 bench_ppo_torch.py <model folder> <batch> <prompt len> <new tokens> <minibatches> <rank> <threads> <repeats>
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
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            start, end = info["data_offsets"]
            f.seek(base + start)
            out[name] = torch.from_numpy(np.frombuffer(f.read(end - start), dtype=np.float32).reshape(info["shape"]).copy())
    return out


class Policy:
    def __init__(self, folder, rank):
        with open(os.path.join(folder, "config.json")) as f:
            c = json.load(f)
        self.w = read_safetensors(os.path.join(folder, "model.safetensors"))
        self.heads, self.kv = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
        self.hd = c.get("head_dim") or c["hidden_size"] // self.heads
        self.layers, self.eps = c["num_hidden_layers"], c["rms_norm_eps"]
        self.inv = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, self.hd, 2, dtype=torch.float32) / self.hd))
        self.lm = self.w["model.embed_tokens.weight"] if c.get("tie_word_embeddings") else self.w["lm_head.weight"]
        g = torch.Generator().manual_seed(1)
        self.lora = {}
        for l in range(self.layers):
            for m in ("q_proj", "v_proj"):
                wt = self.w[f"model.layers.{l}.self_attn.{m}.weight"]
                a = ((torch.rand(rank, wt.shape[1], generator=g) * 2 - 1) / math.sqrt(wt.shape[1])).requires_grad_()
                b = (torch.randn(wt.shape[0], rank, generator=g) * 0.01).requires_grad_()  # non-zero so the policy differs from the reference
                self.lora[(l, m)] = (a, b)
        self.scale = 2.0
        self.value = torch.zeros(c["hidden_size"], requires_grad=True)
        self.value_bias = torch.zeros(1, requires_grad=True)

    def params(self):
        return [t for ab in self.lora.values() for t in ab] + [self.value, self.value_bias]

    def norm(self, x, name):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.w[name]

    @staticmethod
    def rot(x):
        h = x.shape[-1] // 2
        return torch.cat([-x[..., h:], x[..., :h]], -1)

    def proj(self, x, l, m, adapter):
        y = x @ self.w[f"model.layers.{l}.self_attn.{m}.weight"].T
        if adapter and (l, m) in self.lora:
            a, b = self.lora[(l, m)]
            y = y + (x @ a.T @ b.T) * self.scale
        return y

    def hidden(self, ids, start, cache, adapter):
        B, T = ids.shape
        h = self.w["model.embed_tokens.weight"][ids]
        ang = torch.outer(torch.arange(start, start + T, dtype=torch.float32), self.inv)
        cos, sin = torch.cat([ang, ang], -1).cos(), torch.cat([ang, ang], -1).sin()
        mask = torch.ones(T, start + T, dtype=torch.bool).tril(start)
        for l in range(self.layers):
            p = f"model.layers.{l}"
            x = self.norm(h, p + ".input_layernorm.weight")
            q = self.proj(x, l, "q_proj", adapter).view(B, T, self.heads, self.hd).transpose(1, 2)
            k = (x @ self.w[p + ".self_attn.k_proj.weight"].T).view(B, T, self.kv, self.hd).transpose(1, 2)
            v = self.proj(x, l, "v_proj", adapter).view(B, T, self.kv, self.hd).transpose(1, 2)
            q, k = q * cos + self.rot(q) * sin, k * cos + self.rot(k) * sin
            if cache is not None:
                if cache[l] is not None:
                    k, v = torch.cat([cache[l][0], k], 2), torch.cat([cache[l][1], v], 2)
                cache[l] = (k, v)
            g = self.heads // self.kv
            s = (q @ k.repeat_interleave(g, 1).transpose(-1, -2)) / math.sqrt(self.hd)
            a = (torch.softmax(s.masked_fill(~mask, float("-inf")), -1) @ v.repeat_interleave(g, 1)).transpose(1, 2).reshape(B, T, -1)
            h = h + a @ self.w[p + ".self_attn.o_proj.weight"].T
            x = self.norm(h, p + ".post_attention_layernorm.weight")
            h = h + (torch.nn.functional.silu(x @ self.w[p + ".mlp.gate_proj.weight"].T) * (x @ self.w[p + ".mlp.up_proj.weight"].T)) @ self.w[p + ".mlp.down_proj.weight"].T
        return self.norm(h, "model.norm.weight")

    def heads_of(self, seqs, prompt_len, adapter):
        """Per completion token: logprobs, values, entropy (positions prompt_len-1 .. end-1 predict the completion)."""
        h = self.hidden(seqs[:, :-1], 0, None, adapter)[:, prompt_len - 1:]
        logp = torch.log_softmax(h @ self.lm.T, -1)
        tokens = seqs[:, prompt_len:]
        lp = logp.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
        ent = -(logp.exp() * logp).sum(-1)
        values = h @ self.value + self.value_bias
        return lp, values, ent


def reset_peak():
    """Resets the kernel's resident-set high-water mark (VmHWM) of this process."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    folder = sys.argv[1]
    B, P, T, MB, rank, threads, repeats = (int(a) for a in sys.argv[2:9])
    torch.set_num_threads(threads)
    pol = Policy(folder, rank)
    opt = torch.optim.AdamW(pol.params(), lr=1e-5, weight_decay=0.0)
    gen = torch.Generator().manual_seed(0)
    prompts = torch.randint(3, 500, (B, P), generator=gen)
    best = {"sample": 1e9, "evaluate": 1e9, "train": 1e9}
    peak = {"sample": 0.0, "evaluate": 0.0, "train": 0.0}
    for _ in range(repeats + 1):  # the first round warms up
        reset_peak()
        t0 = time.perf_counter()
        with torch.inference_mode():
            cache = [None] * pol.layers
            h = pol.hidden(prompts, 0, cache, True)[:, -1]
            out = []
            for i in range(T):
                token = torch.multinomial(torch.softmax(h @ pol.lm.T, -1), 1, generator=gen)
                out.append(token)
                h = pol.hidden(token, P + i, cache, True)[:, -1]
            seqs = torch.cat([prompts] + out, 1)
        t1 = time.perf_counter()
        peak["sample"] = max(peak["sample"], peak_mib())
        reset_peak()
        with torch.no_grad():
            old_lp, old_v, ent = pol.heads_of(seqs, P, True)
            ref_lp, _, _ = pol.heads_of(seqs, P, False)
        t2 = time.perf_counter()
        peak["evaluate"] = max(peak["evaluate"], peak_mib())
        reset_peak()
        adv = torch.randn(B, T, generator=gen)
        ret = old_v + adv
        for mb in torch.arange(B).chunk(MB):
            lp, v, _ = pol.heads_of(seqs[mb], P, True)
            ratio = (lp - old_lp[mb]).exp()
            pg = torch.max(-adv[mb] * ratio, -adv[mb] * ratio.clamp(0.8, 1.2)).mean()
            vclip = old_v[mb] + (v - old_v[mb]).clamp(-0.2, 0.2)
            vf = 0.5 * torch.max((v - ret[mb]) ** 2, (vclip - ret[mb]) ** 2).mean()
            loss = pg + 0.1 * vf
            opt.zero_grad()
            loss.backward()
            opt.step()
        t3 = time.perf_counter()
        peak["train"] = max(peak["train"], peak_mib())
        for k, dt in (("sample", t1 - t0), ("evaluate", t2 - t1), ("train", t3 - t2)):
            best[k] = min(best[k], dt)
    print(json.dumps({"torch": torch.__version__, "threads": threads, **{f"{k}_s": v for k, v in best.items()}, **{f"{k}_peak_mib": v for k, v in peak.items()}}))


if __name__ == "__main__":
    main()
