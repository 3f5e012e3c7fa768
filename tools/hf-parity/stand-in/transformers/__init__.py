"""Stand-in for transformers (see ../README.md): the golden float64 Llama behind its loading API."""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "golden", "llama"))
from make_llama_golden import Llama  # noqa: E402

__version__ = "0.0.0-stand-in"


class _Output:
    def __init__(self, logits):
        self.logits = logits


class StandInModel:
    """One unpadded sequence per call, like check.py makes them; weights as a state dict."""

    def __init__(self, golden, lora=None):
        self.golden = golden
        self.lora = lora

    def to(self, device):
        return self

    def eval(self):
        return self

    def __call__(self, ids):
        rows = ids.tolist()
        assert len(rows) == 1, "the stand-in runs one sequence per call"
        return _Output(self.golden.forward(rows[0], self.lora).unsqueeze(0))

    def state_dict(self):
        return dict(self.golden.w)


class AutoModelForCausalLM:
    @staticmethod
    def from_pretrained(folder, dtype=None, torch_dtype=None, attn_implementation=None):
        with open(os.path.join(folder, "config.json")) as f:
            json.load(f)  # a missing or broken config fails here, as it would in transformers
        return StandInModel(Llama(folder))


class AutoTokenizer:
    @staticmethod
    def from_pretrained(folder):
        raise NotImplementedError("the stand-in has no tokenizer (transformers' needs the tokenizers library)")


class _Multimodal:
    @staticmethod
    def from_pretrained(folder, dtype=None, torch_dtype=None, attn_implementation=None):
        raise NotImplementedError("the stand-in reads text-only models (the golden Llama has no multimodal loading)")


Gemma3ForConditionalGeneration = _Multimodal
Mistral3ForConditionalGeneration = _Multimodal
