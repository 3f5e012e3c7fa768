#!/usr/bin/env python3
"""Golden outputs for plugins/model-llama from an independent PyTorch Llama forward.

A deliberately plain float64 implementation (RMSNorm, rotary in Hugging Face's
rotate_half layout, GQA, causal + sliding-window mask per layer, SwiGLU, q/k/v
bias, qwen3's per-head q/k RMSNorm, olmo2's (and olmo3's, with its sliding layers) q/k RMSNorm over whole projections and
norms after attention and MLP, smollm3's layers without rotary (its defaults:
theta 2e6, tied embeddings, sliding NoPE layers), granite's multipliers
(embeddings, attention scores, residual branches, logits), the Gemmas' norms before and
after both branches scaling by (1 + weight), tanh-GELU MLP, sqrt(hidden) embedding scale,
query_pre_attn_scalar, gemma2's soft-capped scores and logits and sliding even layers,
gemma3's sliding layers every sliding_window_pattern with their own rotary
base (rope_local_base_freq, unscaled), tied embeddings, phi3's fused qkv_proj and
gate_up_proj split by rows, its partly rotating heads (partial_rotary_factor) and
longrope (short or long factors by the sequence's length, cos/sin scaled by
sqrt(1 + ln(max / original) / ln(original))), linear / llama3 rope
scaling; transformers 4's rope_theta / rope_scaling / max_window_layers and
transformers 5's rope_parameters / layer_types) that reads the tiny models'
safetensors with its own parser. It shares no code with the TypeScript
implementation it checks.

Run (Debian: apt-get install -y python3-torch python3-numpy libopenblas0-pthread):
    /usr/bin/python3 tools/golden/llama/make_llama_golden.py
It regenerates the seeded tiny models with tools/tiny-model/make-tiny-model.ts
(deterministic, so the goldens stay valid) and writes golden-<preset>.json here.
"""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PRESETS = ["llama", "mistral", "qwen2", "qwen3", "olmo2", "olmo3", "smollm3", "granite", "gemma2", "gemma3_text", "phi3"]
SEED = 0
# Fixed prompts as Qwen3 token ids (the tokenizer is not needed in Python):
# "Hello world, this is", "The quick brown fox jumps over the lazy dog. Once
# upon a time", and a chat-formatted "What is the capital of France?" that is
# longer than the mistral preset's sliding window.
PROMPTS = [
    [9707, 1879, 11, 419, 374],
    [785, 3974, 13876, 38835, 34208, 916, 279, 15678, 5562, 13, 9646, 5193, 264, 882],
    [151644, 872, 198, 3838, 374, 279, 6722, 315, 9625, 30, 151645, 198, 151644, 77091, 198, 785, 6722, 315, 9625, 374],
]
NEW_TOKENS = 32
# Vocabulary slice whose logits are stored at every position: low ids, ids spread over the vocabulary, special tokens.
SLICE = list(range(0, 16)) + list(range(1000, 151000, 10000)) + [151643, 151644, 151645]
DTYPE = torch.float64


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    kinds = {"F32": np.float32, "F16": np.float16, "F64": np.float64}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        raw = data[base + start : base + end]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            array = bits.view(np.float32)
        else:
            array = np.frombuffer(raw, dtype=kinds[info["dtype"]])
        tensors[name] = torch.from_numpy(array.astype(np.float64).reshape(info["shape"]))
    return tensors


def inverse_frequencies(cfg, head_dim, local=False, length=0):
    """Inverse frequencies and the factor on cos / sin; `length` (the sequence's) picks longrope's factors."""
    # transformers 5 keeps theta and the scaling in one rope_parameters object.
    scaling = cfg.get("rope_parameters") or cfg.get("rope_scaling") or {}
    default_theta = {"smollm3": 2000000.0, "gemma3_text": 1000000.0}.get(cfg["model_type"], 10000.0)  # SmolLM3Config, Gemma3TextConfig
    base = scaling.get("rope_theta", cfg.get("rope_theta", default_theta))
    if local:  # gemma3's sliding layers (transformers 4 layout): rope_local_base_freq, no scaling
        base, scaling = cfg.get("rope_local_base_freq", 10000.0), {}
    inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=DTYPE) / head_dim))
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind in ("longrope", "su"):  # Phi-3: per-frequency factors, short up to the original context, long beyond
        original = cfg.get("original_max_position_embeddings", 4096)
        ratio = cfg["max_position_embeddings"] / original
        attention = 1.0 if ratio <= 1 else math.sqrt(1 + math.log(ratio) / math.log(original))
        factors = scaling["long_factor"] if length > original else scaling["short_factor"]
        return inv / torch.tensor(factors, dtype=DTYPE), attention
    if kind == "linear":
        return inv / scaling["factor"], 1.0
    if kind == "llama3":
        factor = scaling["factor"]
        low, high = scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        out = []
        for f in inv.tolist():
            wavelength = 2 * math.pi / f
            if wavelength < old / high:
                out.append(f)
            elif wavelength > old / low:
                out.append(f / factor)
            else:
                s = (old / wavelength - low) / (high - low)
                out.append((1 - s) * f / factor + s * f)
        return torch.tensor(out, dtype=DTYPE), 1.0
    assert kind == "default", kind
    return inv, 1.0


class Llama:
    def __init__(self, folder):
        with open(os.path.join(folder, "config.json")) as f:
            self.cfg = cfg = json.load(f)
        self.w = read_safetensors(os.path.join(folder, "model.safetensors"))
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg.get("num_key_value_heads", self.heads)
        self.head_dim = cfg.get("head_dim", cfg["hidden_size"] // self.heads)
        # phi3: int(head_dim * partial_rotary_factor) dimensions of each head rotate, the rest pass through.
        self.rotary_dim = int(self.head_dim * cfg.get("partial_rotary_factor", 1.0))
        self.fused = cfg["model_type"] == "phi3"
        self.layers = cfg["num_hidden_layers"]
        self.eps = cfg["rms_norm_eps"]
        self.gemma = cfg["model_type"] in ("gemma2", "gemma3_text")
        self.gemma3 = cfg["model_type"] == "gemma3_text"
        self.inv_freq_local = inverse_frequencies(cfg, self.rotary_dim, local=True) if self.gemma3 else None
        # gemma2's soft caps (Gemma2Config defaults 50 and 30; null means none).
        self.attn_cap = cfg.get("attn_logit_softcapping", 50.0 if cfg["model_type"] == "gemma2" else None) if self.gemma else None
        self.final_cap = cfg.get("final_logit_softcapping", 30.0 if cfg["model_type"] == "gemma2" else None) if self.gemma else None
        # The sliding window of each layer (None: full causal attention).
        self.windows = [None] * self.layers
        window = cfg.get("sliding_window")
        if cfg["model_type"] in ("mistral", "phi3") and window:
            self.windows = [window] * self.layers
        elif cfg["model_type"] == "smollm3" and cfg.get("use_sliding_window") and window:
            # Without layer_types, SmolLM3Config slides exactly its NoPE layers.
            kinds = cfg.get("layer_types") or ["full_attention" if self.rope_layer(i) else "sliding_attention" for i in range(self.layers)]
            self.windows = [window if kind == "sliding_attention" else None for kind in kinds]
        elif cfg["model_type"] in ("qwen2", "qwen3") and cfg.get("use_sliding_window") and window:
            kinds = cfg.get("layer_types") or [
                "sliding_attention" if i >= cfg.get("max_window_layers", self.layers) else "full_attention" for i in range(self.layers)
            ]
            self.windows = [window if kind == "sliding_attention" else None for kind in kinds]
        elif cfg["model_type"] == "olmo3":  # Olmo3Config: layer_types, else three sliding layers of every four
            kinds = cfg.get("layer_types") or ["full_attention" if (i + 1) % 4 == 0 else "sliding_attention" for i in range(self.layers)]
            self.windows = [cfg.get("sliding_window", 4096) if kind == "sliding_attention" else None for kind in kinds]
        elif self.gemma:  # layer_types, else Gemma3DecoderLayer: sliding unless (layer + 1) is a multiple of the pattern; gemma2: the even layers
            pattern = cfg.get("sliding_window_pattern", 6) if self.gemma3 else 2
            kinds = cfg.get("layer_types") or ["full_attention" if (i + 1) % pattern == 0 else "sliding_attention" for i in range(self.layers)]
            self.windows = [cfg.get("sliding_window", 4096) if kind == "sliding_attention" else None for kind in kinds]
        self.tied = cfg.get("tie_word_embeddings", cfg["model_type"] in ("smollm3", "gemma2", "gemma3_text"))  # SmolLM3Config, the Gemmas tie by default
        # A sequence classifier (score.weight) has no LM head.
        self.lm_head = self.w["model.embed_tokens.weight"] if self.tied else self.w.get("lm_head.weight")
        # olmo2: norms after attention and MLP (no input norm), q/k norms over whole projections.
        self.olmo2 = cfg["model_type"] in ("olmo2", "olmo3")  # olmo3 is olmo2 with sliding layers
        self.post_norms = cfg["model_type"] in ("olmo2", "olmo3", "gemma2", "gemma3_text")
        # granite's scalars (GraniteConfig; 1 and 1/sqrt(head_dim) elsewhere).
        granite = cfg["model_type"] == "granite"
        self.embedding_multiplier = cfg.get("embedding_multiplier", 1.0) if granite else 1.0
        self.attention_multiplier = cfg.get("attention_multiplier", 1.0) if granite else None
        self.residual_multiplier = cfg.get("residual_multiplier", 1.0) if granite else 1.0
        self.logits_scaling = cfg.get("logits_scaling", 1.0) if granite else 1.0
        if self.gemma:
            # The embeddings are multiplied by a float32 sqrt(hidden); attention scales by query_pre_attn_scalar^-1/2.
            self.embedding_multiplier = float(np.float32(cfg["hidden_size"] ** 0.5))
            self.attention_multiplier = cfg.get("query_pre_attn_scalar", 256) ** -0.5

    def rope_layer(self, layer):
        """Whether a layer applies rotary: smollm3's no_rope_layers (1 = rotary), else every
        no_rope_layer_interval-th layer (default 4) goes without; every layer for the others."""
        if self.cfg["model_type"] != "smollm3":
            return True
        listed = self.cfg.get("no_rope_layers")
        if listed is not None:
            return listed[layer] == 1
        return (layer + 1) % self.cfg.get("no_rope_layer_interval", 4) != 0

    def linear(self, x, name):
        y = x @ self.w[name + ".weight"].T
        if name + ".bias" in self.w:
            y = y + self.w[name + ".bias"]
        return y

    def rms_norm(self, x, name):
        weight = (1.0 + self.w[name]) if self.gemma else self.w[name]  # Gemma3RMSNorm scales by (1 + weight)
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * weight

    @staticmethod
    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat([-x[..., half:], x[..., :half]], dim=-1)

    def forward(self, ids, lora=None):
        """Logits [T, vocab] of one unpadded sequence. `lora` maps a projection name to (A, B, scale)."""
        logits = (self.hidden(ids, lora) @ self.lm_head.T) / self.logits_scaling
        return logits if self.final_cap is None else torch.tanh(logits / self.final_cap) * self.final_cap

    def hidden(self, ids, lora=None):
        """The final-norm hidden states [T, hidden] of one unpadded sequence (what a sequence classifier's score reads)."""
        T = len(ids)
        h = self.w["model.embed_tokens.weight"][torch.tensor(ids)] * self.embedding_multiplier
        def tables(inv_freq_and_scale):
            inv_freq, scale = inv_freq_and_scale
            angles = torch.outer(torch.arange(T, dtype=DTYPE), inv_freq)
            return torch.cat([angles, angles], -1).cos() * scale, torch.cat([angles, angles], -1).sin() * scale
        cos_global, sin_global = tables(inverse_frequencies(self.cfg, self.rotary_dim, length=T))
        cos_local, sin_local = tables(self.inv_freq_local) if self.gemma3 else (cos_global, sin_global)
        i = torch.arange(T)[:, None]
        j = torch.arange(T)[None, :]
        causal = j <= i
        proj = lambda x, name: self.linear(x, name) + (
            (x @ lora[name][0].T @ lora[name][1].T) * lora[name][2] if lora and name in lora else 0
        )
        for layer in range(self.layers):
            p = f"model.layers.{layer}"
            x = h if self.post_norms and not self.gemma else self.rms_norm(h, p + ".input_layernorm.weight")
            if self.fused:  # phi3: one projection, rows q then k then v
                qkv = proj(x, p + ".self_attn.qkv_proj")
                nq, nkv = self.heads * self.head_dim, self.kv_heads * self.head_dim
                q, k, v_flat = qkv[:, :nq], qkv[:, nq : nq + nkv], qkv[:, nq + nkv :]
            else:
                q = proj(x, p + ".self_attn.q_proj")
                k = proj(x, p + ".self_attn.k_proj")
                v_flat = proj(x, p + ".self_attn.v_proj")
            if self.olmo2:  # olmo2: RMSNorm over the whole q and k projections
                q = self.rms_norm(q, p + ".self_attn.q_norm.weight")
                k = self.rms_norm(k, p + ".self_attn.k_norm.weight")
            q = q.view(T, self.heads, self.head_dim)
            k = k.view(T, self.kv_heads, self.head_dim)
            if not self.olmo2 and p + ".self_attn.q_norm.weight" in self.w:  # qwen3, gemma3: RMSNorm over each head, before rotary
                q = self.rms_norm(q, p + ".self_attn.q_norm.weight")
                k = self.rms_norm(k, p + ".self_attn.k_norm.weight")
            q = q.transpose(0, 1)
            k = k.transpose(0, 1)
            v = v_flat.view(T, self.kv_heads, self.head_dim).transpose(0, 1)
            cos, sin = (cos_local, sin_local) if self.gemma3 and self.windows[layer] is not None else (cos_global, sin_global)
            if self.rope_layer(layer):
                d = self.rotary_dim
                q = torch.cat([q[..., :d] * cos + self.rotate_half(q[..., :d]) * sin, q[..., d:]], -1)
                k = torch.cat([k[..., :d] * cos + self.rotate_half(k[..., :d]) * sin, k[..., d:]], -1)
            group = self.heads // self.kv_heads
            k = k.repeat_interleave(group, dim=0)
            v = v.repeat_interleave(group, dim=0)
            scores = q @ k.transpose(1, 2)
            scores = scores / math.sqrt(self.head_dim) if self.attention_multiplier is None else scores * self.attention_multiplier
            if self.attn_cap is not None:  # gemma2: soft-capped scores, before the mask
                scores = torch.tanh(scores / self.attn_cap) * self.attn_cap
            window = self.windows[layer]
            allowed = causal if window is None else causal & (i - j < window)
            scores = scores.masked_fill(~allowed, float("-inf"))
            attention = torch.softmax(scores, dim=-1) @ v
            out = proj(attention.transpose(0, 1).reshape(T, -1), p + ".self_attn.o_proj")
            if self.gemma:  # norms before and after both branches
                h = h + self.rms_norm(out, p + ".post_attention_layernorm.weight")
                x = self.rms_norm(h, p + ".pre_feedforward_layernorm.weight")
            elif self.post_norms:
                h = h + self.rms_norm(out, p + ".post_attention_layernorm.weight")
                x = h
            else:
                h = h + out * self.residual_multiplier
                x = self.rms_norm(h, p + ".post_attention_layernorm.weight")
            if self.fused:  # phi3: one projection, gate rows first
                gate_up = proj(x, p + ".mlp.gate_up_proj")
                half = gate_up.shape[-1] // 2
                gate_in, up = gate_up[:, :half], gate_up[:, half:]
            else:
                gate_in, up = proj(x, p + ".mlp.gate_proj"), proj(x, p + ".mlp.up_proj")
            gate = torch.nn.functional.gelu(gate_in, approximate="tanh") if self.gemma else torch.nn.functional.silu(gate_in)
            out = proj(gate * up, p + ".mlp.down_proj")
            h = h + (self.rms_norm(out, p + ".post_feedforward_layernorm.weight") if self.post_norms else out * self.residual_multiplier)
        return self.rms_norm(h, "model.norm.weight")

    def greedy(self, ids, steps):
        """Greedy continuation and the smallest top-1/top-2 logit gap met (how robust the ids are to rounding)."""
        ids = list(ids)
        out = []
        margin = float("inf")
        for _ in range(steps):
            last = self.forward(ids)[-1]
            top2 = torch.topk(last, 2).values
            margin = min(margin, float(top2[0] - top2[1]))
            token = int(torch.argmax(last))
            out.append(token)
            ids.append(token)
        return out, margin


def r(x):
    return float(f"{x:.9g}")


def golden_for(model):
    prompts = []
    for ids in PROMPTS:
        logits = model.forward(ids)
        last = logits[-1]
        top = torch.topk(last, 10)
        sorted_last = torch.sort(last, descending=True).values
        greedy, margin = model.greedy(ids, NEW_TOKENS)
        prompts.append({
            "ids": ids,
            "sliceIds": SLICE,
            "sliceLogits": [[r(v) for v in row] for row in logits[:, SLICE].tolist()],
            "positions": [
                {"mean": r(row.mean()), "std": r(row.std(unbiased=False)), "logsumexp": r(torch.logsumexp(row, 0)), "argmax": int(row.argmax()), "max": r(row.max())}
                for row in logits
            ],
            "lastTop": [{"id": int(i), "logit": r(v)} for v, i in zip(top.values.tolist(), top.indices.tolist())],
            "lastTopMargin": r(sorted_last[0] - sorted_last[1]),
            "greedy": greedy,
            "greedyMinMargin": r(margin),
        })
    return prompts


def make_model(folder, preset, extra=()):
    tsx = os.path.join(REPO, "node_modules", ".bin", "tsx")
    maker = os.path.join(REPO, "tools", "tiny-model", "make-tiny-model.ts")
    subprocess.run([tsx, maker, "--preset", preset, "--out", folder, "--seed", str(SEED), *extra], check=True)


def make_models(root):
    for preset in PRESETS:
        make_model(os.path.join(root, preset), preset)


# LoRA gradient goldens: the llama, qwen3, olmo2, olmo3, smollm3, granite, gemma2, gemma3_text and phi3 presets
# (qwen3 and olmo2: the q/k norms sit between the q/k adapters and attention;
# olmo2: the post norms between every branch and the residual; smollm3: a layer
# without rotary; granite: the multipliers on every path the gradient takes; gemma2: the soft caps on scores and
# logits; gemma3: the (1 + weight) norms around both branches, the GELU gate, two rotary tables; phi3: adapters on the
# fused qkv_proj and gate_up_proj, partly rotating heads) with a 512-token vocabulary (the
# test trains on token ids directly), rank-4 adapters on every projection with
# deterministic closed-form initial values that the TypeScript test recomputes.
LORA_RANK = 4
LORA_ALPHA = 8
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
LORA_TARGETS_FUSED = ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"]  # phi3
LORA_SEQUENCES = [
    {"ids": [12, 45, 300, 7, 99, 100, 101, 5], "promptLength": 3},
    {"ids": [400, 2, 3, 250, 251, 33], "promptLength": 2},
]
LORA_FULL = ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.qkv_proj", "model.layers.1.mlp.down_proj"]


def lora_init(layer, target_index, out_features, in_features):
    """A[k, i] = 0.05 sin(0.37(k+1) + 0.11(i+1) + 1.3 layer + 0.7 t); B[o, k] = 0.05 cos(0.23(o+1) + 0.19(k+1) + 1.1 layer + 0.5 t)."""
    k = torch.arange(LORA_RANK, dtype=DTYPE)[:, None]
    i = torch.arange(in_features, dtype=DTYPE)[None, :]
    a = 0.05 * torch.sin(0.37 * (k + 1) + 0.11 * (i + 1) + 1.3 * layer + 0.7 * target_index)
    o = torch.arange(out_features, dtype=DTYPE)[:, None]
    kk = torch.arange(LORA_RANK, dtype=DTYPE)[None, :]
    b = 0.05 * torch.cos(0.23 * (o + 1) + 0.19 * (kk + 1) + 1.1 * layer + 0.5 * target_index)
    return a, b


LORA_PRESETS = {
    "llama": "golden-lora-grad.json",
    "qwen3": "golden-lora-grad-qwen3.json",
    "olmo2": "golden-lora-grad-olmo2.json",
    "olmo3": "golden-lora-grad-olmo3.json",
    "smollm3": "golden-lora-grad-smollm3.json",
    "granite": "golden-lora-grad-granite.json",
    "gemma2": "golden-lora-grad-gemma2.json",
    "gemma3_text": "golden-lora-grad-gemma3.json",
    "phi3": "golden-lora-grad-phi3.json",
}


def lora_golden(root, preset):
    folder = os.path.join(root, f"{preset}-v512")
    if not os.path.exists(os.path.join(folder, "model.safetensors")):
        make_model(folder, preset, ["--set", "vocab_size=512"])
    model = Llama(folder)
    targets = LORA_TARGETS_FUSED if model.fused else LORA_TARGETS
    lora = {}
    for layer in range(model.layers):
        for t, target in enumerate(targets):
            block = "mlp" if target in ("gate_proj", "up_proj", "down_proj", "gate_up_proj") else "self_attn"
            name = f"model.layers.{layer}.{block}.{target}"
            out_features, in_features = model.w[name + ".weight"].shape
            a, b = lora_init(layer, t, out_features, in_features)
            lora[name] = (a.requires_grad_(), b.requires_grad_(), LORA_ALPHA / LORA_RANK)
    total = torch.zeros((), dtype=DTYPE)
    count = 0
    for seq in LORA_SEQUENCES:
        ids = seq["ids"]
        logp = torch.log_softmax(model.forward(ids, lora), dim=-1)
        for j in range(seq["promptLength"] - 1, len(ids) - 1):
            total = total - logp[j, ids[j + 1]]
            count += 1
    loss = total / count
    loss.backward()
    modules = {}
    for name, (a, b, _) in lora.items():
        entry = {"gradANorm": r(a.grad.norm()), "gradBNorm": r(b.grad.norm())}
        if name in LORA_FULL:
            entry["gradA"] = [r(v) for v in a.grad.flatten().tolist()]
            entry["gradB"] = [r(v) for v in b.grad.flatten().tolist()]
        modules[name] = entry
    return {
        "generator": "tools/golden/llama/make_llama_golden.py",
        "torch": torch.__version__,
        "preset": preset,
        "overrides": {"vocab_size": 512},
        "seed": SEED,
        "rank": LORA_RANK,
        "alpha": LORA_ALPHA,
        "targets": targets,
        "sequences": LORA_SEQUENCES,
        "loss": r(loss),
        "modules": modules,
    }


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="llama-golden-")
    if not all(os.path.exists(os.path.join(root, p, "model.safetensors")) for p in PRESETS):
        make_models(root)
    for preset in PRESETS:
        model = Llama(os.path.join(root, preset))
        golden = {
            "generator": "tools/golden/llama/make_llama_golden.py",
            "torch": torch.__version__,
            "preset": preset,
            "seed": SEED,
            "newTokens": NEW_TOKENS,
            "prompts": golden_for(model),
        }
        path = os.path.join(HERE, f"golden-{preset}.json")
        with open(path, "w") as f:
            json.dump(golden, f, separators=(",", ":"))
            f.write("\n")
        print(f"wrote {path} ({os.path.getsize(path)} bytes); last-position top margins:",
              [p["lastTopMargin"] for p in golden["prompts"]],
              "greedy min margins:", [p["greedyMinMargin"] for p in golden["prompts"]])
    for preset, name in LORA_PRESETS.items():
        path = os.path.join(HERE, name)
        with open(path, "w") as f:
            json.dump(lora_golden(root, preset), f, separators=(",", ":"))
            f.write("\n")
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
