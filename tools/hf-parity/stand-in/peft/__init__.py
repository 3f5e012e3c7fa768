"""Stand-in for peft (see ../README.md): a PEFT LoRA folder read with the golden's own safetensors parser."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "golden", "llama"))
from make_llama_golden import read_safetensors  # noqa: E402
from transformers import decoder_name  # noqa: E402  (the stand-in's, on the same path)

__version__ = "0.0.0-stand-in"


class PeftModel:
    @staticmethod
    def from_pretrained(model, folder):
        with open(os.path.join(folder, "adapter_config.json")) as f:
            config = json.load(f)
        scale = config["lora_alpha"] / (config["r"] ** 0.5 if config.get("use_rslora") else config["r"])
        tensors = read_safetensors(os.path.join(folder, "adapter_model.safetensors"))
        prefix = "base_model.model."
        lora = {}
        for name, a in tensors.items():
            if name.endswith(".lora_A.weight"):
                module = name[len(prefix):-len(".lora_A.weight")]
                if model.multimodal:
                    # Only what the model has: transformers >= 4.52 names a multimodal decoder's modules model.language_model.…;
                    # real PEFT would leave anything else unloaded (its LoRA at the zero start).
                    if not module.startswith("model.language_model."):
                        continue
                    module = decoder_name(module)
                lora[module] = (a, tensors[name.replace("lora_A", "lora_B")], scale)
        model.lora = lora
        model.merge_and_unload = lambda: _merged(model)
        return model


def _merged(model):
    from transformers import StandInModel

    golden = model.golden
    merged = dict(golden.w)
    for module, (a, b, scale) in model.lora.items():
        merged[module + ".weight"] = golden.w[module + ".weight"] + scale * (b @ a)
    copy = type(golden).__new__(type(golden))
    copy.__dict__.update(golden.__dict__)
    copy.w = merged
    copy.lm_head = merged["model.embed_tokens.weight"] if golden.tied else merged["lm_head.weight"]
    return StandInModel(copy, multimodal=model.multimodal)
