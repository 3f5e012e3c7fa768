#!/usr/bin/env python3
"""PyTorch side of tools/bench-scorers: a Pythia-160M-shaped OASST reward model and a
T5-base-shaped UniEval (first decoder step), CPU eager float32.

The forwards are the plain-torch implementations of the golden scripts
(tools/golden/gpt-neox, tools/golden/t5), run in float32 instead of float64;
the weights are seeded random weights in their tensor layout, std 0.02 for matrices.

  write rm|t5 <folder>                               writes config.json + model.safetensors
  time  rm|t5 <length> <batches,csv> <threads> <repeats>
        prints one JSON line: seconds per batch size (best of repeats after a warm-up)
"""
import json
import os
import sys
import time

import torch

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "golden", "gpt-neox"))
sys.path.insert(0, os.path.join(HERE, "..", "golden", "t5"))
import make_gpt_neox_golden as neox  # noqa: E402
import make_t5_golden as t5  # noqa: E402

neox.D = torch.float32
t5.D = torch.float32

RM = dict(architectures=["GPTNeoXRewardModel"], model_type="gpt_neox_reward_model", pooling="last",
          hidden_size=768, num_attention_heads=12, num_hidden_layers=12, intermediate_size=3072, vocab_size=50304,
          rotary_pct=0.25, rotary_emb_base=10000, layer_norm_eps=1e-5, use_parallel_residual=True,
          hidden_act="gelu", max_position_embeddings=2048, bos_token_id=0, eos_token_id=0, pad_token_id=1)
T5 = dict(d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_decoder_layers=12, num_heads=12, vocab_size=32128,
          relative_attention_num_buckets=32, relative_attention_max_distance=128, layer_norm_epsilon=1e-6,
          decoder_start_token_id=0, pad_token_id=0, eos_token_id=1, model_type="t5",
          architectures=["T5ForConditionalGeneration"], feed_forward_proj="relu", tie_word_embeddings=True)
SEED = {"rm": 31, "t5": 32}


def weights(kind):
    """Seeded random weights in the golden scripts' layout (their shapes()); std 0.02 for matrices of these widths."""
    shapes = neox.shapes(RM, "reward") if kind == "rm" else t5.shapes(T5)
    g = torch.Generator().manual_seed(SEED[kind])
    out = {}
    for name, shape in shapes.items():
        t = torch.randn(shape, generator=g, dtype=torch.float32)
        if name.endswith("layernorm.weight") or name.endswith("layer_norm.weight"):
            t = 1.0 + 0.03 * t
        elif name == "shared.weight":
            t = 0.9 * t
        elif t.dim() == 2 and "embed" not in name:
            t = 0.02 * t
        else:
            t = 0.3 * t
        out[name] = t.contiguous()
    return out


def config(kind):
    return RM if kind == "rm" else T5


def write(kind, folder):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config(kind), f, indent=2)
    neox.write_safetensors(os.path.join(folder, "model.safetensors"), weights(kind))


def run(kind, w, ids, mask):
    if kind == "rm":
        return neox.forward(w, RM, "reward", ids, mask)
    return t5.forward(w, T5, ids, mask)


def timing(kind, length, batches, threads, repeats):
    torch.set_num_threads(threads)
    w = weights(kind)
    gen = torch.Generator().manual_seed(0)
    out = {}
    for b in batches:
        ids = torch.randint(3, 1000, (b, length), generator=gen)
        mask = torch.ones(b, length, dtype=torch.long)
        best = float("inf")
        with torch.inference_mode():
            for r in range(repeats + 1):
                t0 = time.perf_counter()
                run(kind, w, ids, mask)
                if r > 0:
                    best = min(best, time.perf_counter() - t0)
        out[str(b)] = best
    print(json.dumps({"torch": torch.__version__, "threads": threads, "seconds": out}))


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3])
    else:
        timing(sys.argv[2], int(sys.argv[3]), [int(b) for b in sys.argv[4].split(",")], int(sys.argv[5]), int(sys.argv[6]))
