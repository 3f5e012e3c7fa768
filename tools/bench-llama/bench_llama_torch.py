#!/usr/bin/env python3
"""PyTorch CPU baseline for tools/bench-llama: the same safetensors model, float32,
a simple KV-cache greedy loop. Prints one JSON object on stdout.

Usage: /usr/bin/python3 bench_llama_torch.py <model folder> <prompt length> <decode steps> <batch sizes comma-separated> <threads>
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
        tensors = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            assert info["dtype"] == "F32", info["dtype"]
            start, end = info["data_offsets"]
            f.seek(base + start)
            array = np.frombuffer(f.read(end - start), dtype=np.float32).reshape(info["shape"])
            tensors[name] = torch.from_numpy(array.copy())
    return tensors


class Model:
    def __init__(self, folder):
        with open(os.path.join(folder, "config.json")) as f:
            c = json.load(f)
        self.w = read_safetensors(os.path.join(folder, "model.safetensors"))
        self.heads = c["num_attention_heads"]
        self.kv = c.get("num_key_value_heads", self.heads)
        self.hd = c.get("head_dim", c["hidden_size"] // self.heads)
        self.layers = c["num_hidden_layers"]
        self.eps = c["rms_norm_eps"]
        self.inv = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, self.hd, 2, dtype=torch.float32) / self.hd))
        self.lm = self.w["model.embed_tokens.weight"] if c.get("tie_word_embeddings") else self.w["lm_head.weight"]

    def norm(self, x, name):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.w[name]

    @staticmethod
    def rot(x):
        h = x.shape[-1] // 2
        return torch.cat([-x[..., h:], x[..., :h]], -1)

    def step(self, ids, start, cache):
        """ids [B, T] at positions start..start+T-1; cache: per layer (k, v) [B, kv, past, hd] or None. Returns last logits."""
        B, T = ids.shape
        h = self.w["model.embed_tokens.weight"][ids]
        pos = torch.arange(start, start + T, dtype=torch.float32)
        ang = torch.outer(pos, self.inv)
        cos = torch.cat([ang, ang], -1).cos()
        sin = torch.cat([ang, ang], -1).sin()
        total = start + T
        mask = torch.ones(T, total, dtype=torch.bool).tril(start)
        for l in range(self.layers):
            p = f"model.layers.{l}"
            x = self.norm(h, p + ".input_layernorm.weight")
            q = (x @ self.w[p + ".self_attn.q_proj.weight"].T).view(B, T, self.heads, self.hd).transpose(1, 2)
            k = (x @ self.w[p + ".self_attn.k_proj.weight"].T).view(B, T, self.kv, self.hd).transpose(1, 2)
            v = (x @ self.w[p + ".self_attn.v_proj.weight"].T).view(B, T, self.kv, self.hd).transpose(1, 2)
            q = q * cos + self.rot(q) * sin
            k = k * cos + self.rot(k) * sin
            if cache[l] is not None:
                k = torch.cat([cache[l][0], k], 2)
                v = torch.cat([cache[l][1], v], 2)
            cache[l] = (k, v)
            g = self.heads // self.kv
            kk = k.repeat_interleave(g, 1)
            vv = v.repeat_interleave(g, 1)
            s = (q @ kk.transpose(-1, -2)) / math.sqrt(self.hd)
            s = s.masked_fill(~mask, float("-inf"))
            a = (torch.softmax(s, -1) @ vv).transpose(1, 2).reshape(B, T, -1)
            h = h + a @ self.w[p + ".self_attn.o_proj.weight"].T
            x = self.norm(h, p + ".post_attention_layernorm.weight")
            m = torch.nn.functional.silu(x @ self.w[p + ".mlp.gate_proj.weight"].T) * (x @ self.w[p + ".mlp.up_proj.weight"].T)
            h = h + m @ self.w[p + ".mlp.down_proj.weight"].T
        h = self.norm(h[:, -1], "model.norm.weight")
        return h @ self.lm.T


def main():
    folder, prompt_len, steps, batches, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), [int(b) for b in sys.argv[4].split(",")], int(sys.argv[5])
    torch.set_num_threads(threads)
    model = Model(folder)
    gen = torch.Generator().manual_seed(0)
    result = {"torch": torch.__version__, "threads": threads}
    with torch.inference_mode():
        prompt = torch.randint(0, 1000, (1, prompt_len), generator=gen)
        model.step(prompt, 0, [None] * model.layers)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            model.step(prompt, 0, [None] * model.layers)
            times.append(time.perf_counter() - t0)
        result["prefillTokensPerSecond"] = prompt_len / min(times)
        for b in batches:
            ids = torch.randint(0, 1000, (b, prompt_len), generator=gen)
            cache = [None] * model.layers
            token = model.step(ids, 0, cache).argmax(-1, keepdim=True)
            t0 = time.perf_counter()
            for i in range(steps):
                token = model.step(token, prompt_len + i, cache).argmax(-1, keepdim=True)
            result[f"decodeTokensPerSecondBatch{b}"] = b * steps / (time.perf_counter() - t0)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
