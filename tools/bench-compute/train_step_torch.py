"""PyTorch CPU eager baseline for tools/bench-compute (run with /usr/bin/python3).

Builds the same 4-layer Llama-style decoder as model.ts (RMSNorm, rotary, causal
multi-head attention, SwiGLU, LM head, cross-entropy) and AdamW, then serves
timing requests on stdin so the TypeScript harness can interleave its own runs
with these (fair under shared-machine load):

  config <json>   -> builds the model; replies "ready"
  step            -> one forward + backward + AdamW step; replies "<ms> <loss>"
  matmul <n>      -> one n x n x n float32 matmul; replies "<ms>"
  quit
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F


class RMSNorm(torch.nn.Module):
    def __init__(self, hidden, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(hidden))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Layer(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        h, i = c["hidden"], c["intermediate"]
        self.heads, self.head_dim = c["heads"], c["headDim"]
        self.input_norm = RMSNorm(h, c["rmsNormEps"])
        self.post_norm = RMSNorm(h, c["rmsNormEps"])
        self.q = torch.nn.Linear(h, h, bias=False)
        self.k = torch.nn.Linear(h, h, bias=False)
        self.v = torch.nn.Linear(h, h, bias=False)
        self.o = torch.nn.Linear(h, h, bias=False)
        self.gate = torch.nn.Linear(h, i, bias=False)
        self.up = torch.nn.Linear(h, i, bias=False)
        self.down = torch.nn.Linear(i, h, bias=False)

    def attention(self, x, cos, sin, mask):
        b, s, _ = x.shape
        split = lambda t: t.view(b, s, self.heads, self.head_dim).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        scores = scores.masked_fill(mask, torch.finfo(scores.dtype).min)
        out = torch.softmax(scores, dim=-1) @ v
        return self.o(out.transpose(1, 2).reshape(b, s, -1))

    def forward(self, x, cos, sin, mask):
        h = x + self.attention(self.input_norm(x), cos, sin, mask)
        n = self.post_norm(h)
        return h + self.down(F.silu(self.gate(n)) * self.up(n))


class Model(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed = torch.nn.Embedding(c["vocab"], c["hidden"])
        self.layers = torch.nn.ModuleList([Layer(c) for _ in range(c["layers"])])
        self.norm = RMSNorm(c["hidden"], c["rmsNormEps"])
        self.head = torch.nn.Linear(c["hidden"], c["vocab"], bias=False)

    def forward(self, ids, targets):
        c = self.c
        s = ids.shape[1]
        half = c["headDim"] // 2
        inv = 1.0 / (c["ropeTheta"] ** (torch.arange(half, dtype=torch.float32) * 2 / c["headDim"]))
        freqs = torch.outer(torch.arange(s, dtype=torch.float32), inv)
        angles = torch.cat((freqs, freqs), dim=-1)
        cos, sin = angles.cos()[None, None], angles.sin()[None, None]
        mask = torch.triu(torch.ones(s, s, dtype=torch.bool), diagonal=1)
        x = self.embed(ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        logits = self.head(self.norm(x))
        return F.cross_entropy(logits.reshape(-1, c["vocab"]), targets.reshape(-1))


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = optimizer = ids = targets = None
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "config":
            c = json.loads(arg)
            model = Model(c)
            optimizer = torch.optim.AdamW(model.parameters(), lr=c["lr"], betas=(c["beta1"], c["beta2"]), eps=c["eps"], weight_decay=c["weightDecay"])
            n = c["batch"] * c["seq"]
            ids = (torch.arange(n) * 7919 % c["vocab"]).view(c["batch"], c["seq"])
            targets = (ids * 31 + 7) % c["vocab"]
            reply = f"ready torch {torch.__version__} threads {torch.get_num_threads()}"
        elif cmd == "step":
            t = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            loss = model(ids, targets)
            loss.backward()
            optimizer.step()
            reply = f"{(time.perf_counter() - t) * 1000:.3f} {loss.item():.6f}"
        elif cmd == "matmul":
            n = int(arg)
            a, b = torch.randn(n, n), torch.randn(n, n)
            a @ b
            t = time.perf_counter()
            a @ b
            reply = f"{(time.perf_counter() - t) * 1000:.3f}"
        elif cmd == "quit":
            break
        else:
            reply = f"error unknown command {cmd}"
        print(reply, flush=True)


if __name__ == "__main__":
    main()
