#!/usr/bin/env python3
"""The Python half of the Hugging Face parity check: recomputes with transformers
and peft what tools/hf-parity/export.ts wrote, and says where they differ.

    python3 tools/hf-parity/check.py /tmp/hf-parity [--out hf-parity.json] [--device cpu]

Needs torch, transformers and peft (the GPU machines lent to this project's sessions
have them; tools/gpu-check/device-run.sh runs export.ts then this). Per preset folder
(<dir>/<preset>/expected.json, model/, adapter/, merged/), each check independent of
the others (an exception is recorded as that check's error, the rest still run):

- tokenizer: transformers' AutoTokenizer ids for each text equal ours, and so does its
  decoding of them;
- chatTemplate: apply_chat_template(..., add_generation_prompt=True) renders each chat as ours;
- logprobs: log p(token | prefix) from the float32 model (eager attention), one prompt
  at a time, unpadded, against ours (left-padded batch): max abs difference;
- greedy: our batched KV-cache continuation teacher-forced through transformers: each
  of our tokens must be transformers' argmax, or within TIE of its top logit (float32
  near-ties between two kernel orders);
- peft: PeftModel.from_pretrained(base, adapter) log-probabilities against ours under the
  same adapter, and how far the adapter moved them (a check on a no-op adapter proves little);
- merged: our merged folder read by transformers against ours under the adapter, and
  its weights against peft's merge_and_unload().

Writes one JSON (versions, every number, pass/fail per check) and exits 1 when a check
failed or errored, 0 when all passed.
"""
import argparse
import json
import os
import platform
import sys
import traceback

LOGPROB_TOL = 1e-3  # abs, on log-probabilities of magnitude ~10-25 (float32 vs float32, other kernels)
TIE = 1e-4  # a greedy token within this of transformers' top logit counts as a tie
WEIGHT_TOL = 1e-5
MULTIMODAL_CLASSES = {"gemma3": "Gemma3ForConditionalGeneration", "mistral3": "Mistral3ForConditionalGeneration"}


def load_model(folder, device):
    import torch
    import transformers

    with open(os.path.join(folder, "config.json")) as f:
        model_type = json.load(f).get("model_type")
    # A multimodal model is loaded as the class its checkpoints are (the Auto class's choice for them changed across versions).
    cls = getattr(transformers, MULTIMODAL_CLASSES[model_type]) if model_type in MULTIMODAL_CLASSES else transformers.AutoModelForCausalLM
    try:
        model = cls.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    except TypeError:  # transformers before `dtype` replaced `torch_dtype`
        model = cls.from_pretrained(folder, torch_dtype=torch.float32, attn_implementation="eager")
    return model.to(device).eval()


def prompt_logprobs(model, ids, device):
    """log p(ids[k] | ids[<k]) for k >= 1, and the logits at every position."""
    import torch

    with torch.no_grad():
        logits = model(torch.tensor([ids], device=device)).logits[0].float()
    logp = torch.log_softmax(logits, dim=-1)
    return [logp[k - 1, ids[k]].item() for k in range(1, len(ids))], logits


def max_abs(a, b):
    if len(a) != len(b) or any(len(x) != len(y) for x, y in zip(a, b)):
        raise ValueError(f"shapes differ: {[len(x) for x in a]} vs {[len(y) for y in b]}")
    return max((abs(x - y) for xs, ys in zip(a, b) for x, y in zip(xs, ys)), default=0.0)


def run_check(results, name, fn):
    try:
        results[name] = fn()
    except Exception as error:  # recorded, not raised: the other checks still run
        results[name] = {"pass": False, "error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc(limit=4)}


def check_preset(root, device):
    import torch

    with open(os.path.join(root, "expected.json")) as f:
        expected = json.load(f)
    folders = {k: os.path.join(root, v) for k, v in expected["folders"].items()}
    results = {}
    model = load_model(folders["model"], device)

    def tokenizer():
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(folders["model"])
        theirs = [tok.encode(text, add_special_tokens=False) for text in expected["texts"]]
        mismatched = [{"text": expected["texts"][i], "ours": expected["tokenIds"][i], "transformers": theirs[i]} for i in range(len(theirs)) if theirs[i] != expected["tokenIds"][i]]
        decoded = [tok.decode(ids, skip_special_tokens=True) for ids in expected["tokenIds"]]
        undecoded = [{"ours": ours, "transformers": d} for d, ours in zip(decoded, expected["decoded"]) if d != ours]
        return {"pass": not mismatched and not undecoded, "texts": len(theirs), "mismatched": mismatched, "decodedDiffering": undecoded}

    def chat_template():
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(folders["model"])
        theirs = [tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=True) for chat in expected["chats"]]
        differing = [{"ours": ours, "transformers": t} for t, ours in zip(theirs, expected["chatTexts"]) if t != ours]
        return {"pass": not differing, "chats": len(theirs), "differing": differing}

    def logprobs():
        theirs = [prompt_logprobs(model, ids, device)[0] for ids in expected["tokenIds"]]
        diff = max_abs(theirs, expected["logprobs"])
        return {"pass": diff <= LOGPROB_TOL, "maxAbs": diff, "tolerance": LOGPROB_TOL, "positions": sum(map(len, theirs))}

    def greedy():
        rows = []
        for ids, ours in zip(expected["tokenIds"], expected["greedy"]):
            exact, worst = 0, 0.0
            for j, token in enumerate(ours):
                # The last logits of each prefix, as generation computes them: a longrope model (phi3) rotates a
                # sequence by its length so far, so one pass over the whole continuation would not be the same.
                _, logits = prompt_logprobs(model, ids + ours[:j], device)
                row = logits[len(ids) - 1 + j]
                top = row.max().item()
                gap = top - row[token].item()
                exact += int(row.argmax().item() == token)
                worst = max(worst, gap)
            rows.append({"tokens": len(ours), "exactArgmax": exact, "worstGap": worst})
        worst = max((r["worstGap"] for r in rows), default=0.0)
        return {"pass": worst <= TIE and all(r["tokens"] > 0 for r in rows), "tie": TIE, "worstGap": worst, "rows": rows}

    def adapter():
        from peft import PeftModel

        peft_model = PeftModel.from_pretrained(load_model(folders["model"], device), folders["adapter"]).eval()
        theirs = [prompt_logprobs(peft_model, ids, device)[0] for ids in expected["tokenIds"]]
        diff = max_abs(theirs, expected["adapterLogprobs"])
        moved = max_abs(expected["adapterLogprobs"], expected["logprobs"])
        return {"pass": diff <= LOGPROB_TOL and moved > 100 * LOGPROB_TOL, "maxAbs": diff, "adapterMovedLogprobsBy": moved, "tolerance": LOGPROB_TOL}

    def merged():
        from peft import PeftModel

        merged_model = load_model(folders["merged"], device)
        theirs = [prompt_logprobs(merged_model, ids, device)[0] for ids in expected["tokenIds"]]
        diff = max_abs(theirs, expected["adapterLogprobs"])
        reference = PeftModel.from_pretrained(load_model(folders["model"], device), folders["adapter"]).merge_and_unload()
        ours_state, their_state = merged_model.state_dict(), reference.state_dict()
        missing = sorted(set(their_state) ^ set(ours_state))
        weight_diff = max((torch.max(torch.abs(ours_state[k].float() - their_state[k].float())).item() for k in their_state if k in ours_state), default=0.0)
        return {"pass": diff <= LOGPROB_TOL and weight_diff <= WEIGHT_TOL and not missing, "maxAbs": diff, "tolerance": LOGPROB_TOL, "weightsMaxAbsVsPeftMerge": weight_diff, "weightTolerance": WEIGHT_TOL, "tensorNamesDiffering": missing[:20]}

    for name, fn in [("tokenizer", tokenizer), ("chatTemplate", chat_template), ("logprobs", logprobs), ("greedy", greedy), ("peft", adapter), ("merged", merged)]:
        run_check(results, name, fn)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", help="the folder export.ts wrote (one subfolder per preset)")
    parser.add_argument("--out", default=None, help="where to write the JSON report (default <dir>/hf-parity.json)")
    parser.add_argument("--device", default="cpu", help="torch device for transformers (default cpu: float32 there is the reference)")
    args = parser.parse_args()
    out = args.out or os.path.join(args.dir, "hf-parity.json")
    report = {"benchmark": "hf-parity", "python": platform.python_version(), "device": args.device}
    try:
        import peft
        import torch
        import transformers

        report.update({"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__})
        torch.manual_seed(0)
    except ImportError as error:
        report.update({"result": "missing dependency", "reason": f"{error}: install torch, transformers and peft"})
        with open(out, "w") as f:
            json.dump(report, f, indent=1)
        print(report["reason"], file=sys.stderr)
        return 2
    presets = sorted(d for d in os.listdir(args.dir) if os.path.isfile(os.path.join(args.dir, d, "expected.json")))
    if not presets:
        print(f"no <preset>/expected.json under {args.dir}: run tools/hf-parity/export.ts --out {args.dir} first", file=sys.stderr)
        return 2
    report["presets"] = {}
    for preset in presets:
        try:
            report["presets"][preset] = check_preset(os.path.join(args.dir, preset), args.device)
        except Exception as error:  # e.g. the model folder does not load at all
            report["presets"][preset] = {"load": {"pass": False, "error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc(limit=4)}}
    failed = [f"{p}.{c}" for p, checks in report["presets"].items() for c, r in checks.items() if not r.get("pass")]
    report["result"] = "pass" if not failed else "fail"
    report["failed"] = failed
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    for preset, checks in report["presets"].items():
        for name, r in checks.items():
            detail = r.get("error") or ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items() if k in ("maxAbs", "worstGap", "adapterMovedLogprobsBy", "weightsMaxAbsVsPeftMerge", "texts", "positions"))
            print(f"{'ok  ' if r.get('pass') else 'FAIL'} {preset} {name}: {detail}")
    print(f"hf-parity: {report['result']} ({out})")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
