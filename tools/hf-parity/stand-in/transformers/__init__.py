"""Stand-in for transformers (see ../README.md): the golden float64 Llama behind its loading API."""
import json
import os
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "golden", "llama"))
from make_llama_golden import Llama, read_safetensors  # noqa: E402

__version__ = "0.0.0-stand-in"


class _Output:
    def __init__(self, logits):
        self.logits = logits


class StandInModel:
    """One unpadded sequence per call, like check.py makes them; weights as a state dict."""

    def __init__(self, golden, lora=None, multimodal=False):
        self.golden = golden
        self.lora = lora
        # A multimodal model's modules are named as in transformers >= 4.52 (model.language_model.…).
        self.multimodal = multimodal

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


# A multimodal model's text decoder: its text_config's model type, and where transformers keeps the decoder's
# weights (the 4.50 hub layout renamed to the current one first, as transformers' conversion map does).
TEXT_MODEL_TYPES = {"gemma3": "gemma3_text", "mistral3": "mistral"}
LEGACY_PREFIXES = [("language_model.model.", "model.language_model."), ("language_model.lm_head.", "lm_head."), ("vision_tower.", "model.vision_tower."), ("multi_modal_projector.", "model.multi_modal_projector.")]


def decoder_name(name):
    """The text decoder's name of a multimodal tensor or module, or None for the image side."""
    for old, new in LEGACY_PREFIXES:
        if name.startswith(old):
            name = new + name[len(old):]
            break
    if name.startswith("model.language_model."):
        return "model." + name[len("model.language_model."):]
    return None if name.startswith("model.") else name


def _write_float64(path, tensors):
    """A float64 safetensors file (the golden Llama's reader takes F64), written by hand: no safetensors package here."""
    header, offset, blobs = {}, 0, []
    for name, tensor in tensors.items():
        blob = tensor.detach().to(torch.float64).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F64", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(len(encoded).to_bytes(8, "little") + encoded + b"".join(blobs))


class _Multimodal:
    """The golden Llama over a multimodal folder's text decoder: its text_config and its decoder's tensors, in a text-only folder of its own."""

    @staticmethod
    def from_pretrained(folder, dtype=None, torch_dtype=None, attn_implementation=None):
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        text = dict(cfg.get("text_config") or {}, model_type=TEXT_MODEL_TYPES[cfg["model_type"]])
        text.update({key: cfg[key] for key in ("bos_token_id", "eos_token_id", "pad_token_id") if cfg.get(key) is not None})
        tensors = read_safetensors(os.path.join(folder, "model.safetensors"))
        decoder = {decoder_name(name): tensor for name, tensor in tensors.items() if decoder_name(name) is not None}
        text_folder = tempfile.mkdtemp(prefix="stand-in-text-")
        with open(os.path.join(text_folder, "config.json"), "w") as f:
            json.dump(text, f)
        _write_float64(os.path.join(text_folder, "model.safetensors"), decoder)
        return StandInModel(Llama(text_folder), multimodal=True)


Gemma3ForConditionalGeneration = _Multimodal
Mistral3ForConditionalGeneration = _Multimodal
