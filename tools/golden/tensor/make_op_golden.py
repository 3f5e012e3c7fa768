#!/usr/bin/python3
"""Op-level golden outputs for the @refine-af/tensor reference interpreter.

Evaluates the conformance cases exported by export-op-cases.ts with a second,
independent implementation of every IR op written on PyTorch (float64), and
writes op_golden.json: {case id: {hash, y}}. The tensor test suite compares its
interpreter's forward results with these.

Run (from the repo root):
  npx tsx tools/golden/tensor/export-op-cases.ts /tmp/op-cases.json
  /usr/bin/python3 tools/golden/tensor/make_op_golden.py /tmp/op-cases.json
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
INT = {"int32", "int64"}


def as_dtype(t, dtype):
    """Represent every value as float64 (like the interpreter), converting per ONNX Cast rules."""
    if dtype == "bool":
        return (t != 0).to(torch.float64)
    if dtype in INT:
        return torch.trunc(t)
    if dtype in ("float32", "float16"):
        return t.to(torch.float32).to(torch.float64)
    return t


def binary(op, a, b, dtype):
    if op == "Add": return a + b
    if op == "Sub": return a - b
    if op == "Mul": return a * b
    if op == "Div": return torch.div(a, b, rounding_mode="trunc") if dtype in INT else a / b
    if op == "Pow": return torch.pow(a, b)
    if op == "Min": return torch.minimum(a, b)
    if op == "Max": return torch.maximum(a, b)
    cmp = {"Equal": torch.eq, "Less": torch.lt, "LessOrEqual": torch.le, "Greater": torch.gt, "GreaterOrEqual": torch.ge}
    if op in cmp: return cmp[op](a, b).to(torch.float64)
    if op == "And": return ((a != 0) & (b != 0)).to(torch.float64)
    if op == "Or": return ((a != 0) | (b != 0)).to(torch.float64)
    return None


UNARY = {
    "Neg": torch.neg, "Abs": torch.abs, "Sign": torch.sign, "Sqrt": torch.sqrt, "Rsqrt": torch.rsqrt,
    "Reciprocal": torch.reciprocal, "Exp": torch.exp, "Log": torch.log, "Tanh": torch.tanh,
    "Sigmoid": torch.sigmoid, "Silu": F.silu, "Relu": torch.relu, "Erf": torch.erf, "Cos": torch.cos,
    "Sin": torch.sin, "Not": lambda x: (x == 0).to(torch.float64), "Identity": lambda x: x.clone(),
}


def run(case):
    vals = []
    for n in case["nodes"]:
        op, a, ins = n["op"], n["attrs"], [vals[i] for i in n["inputs"]]
        shape = n["shape"]
        if op in ("Input", "Parameter"):
            f = case["feeds"][a["name"]]
            v = torch.tensor(f["data"], dtype=torch.float64).reshape(f["shape"])
        elif op == "Constant":
            v = torch.tensor(a["value"], dtype=torch.float64).reshape(shape)
        elif op == "MatMul":
            v = torch.matmul(ins[0], ins[1])
        elif binary(op, torch.zeros(1), torch.ones(1), "float64") is not None:
            v = binary(op, ins[0], ins[1], n["dtype"])
        elif op == "Where":
            v = torch.where(ins[0] != 0, ins[1], ins[2])
        elif op in UNARY:
            v = UNARY[op](ins[0])
        elif op == "Gelu":
            v = F.gelu(ins[0], approximate=a["approximate"])
        elif op == "Cast":
            v = as_dtype(ins[0], a["to"])
        elif op == "Clip":
            v = torch.clamp(ins[0], min=a.get("min"), max=a.get("max"))
        elif op == "Softmax":
            v = torch.softmax(ins[0], dim=a["axis"])
        elif op == "LogSoftmax":
            v = torch.log_softmax(ins[0], dim=a["axis"])
        elif op == "ReduceSum":
            v = torch.sum(ins[0], dim=a["axes"], keepdim=a["keepdims"])
        elif op == "ReduceMean":
            v = torch.mean(ins[0], dim=a["axes"], keepdim=a["keepdims"])
        elif op == "ReduceMax":
            v = torch.amax(ins[0], dim=a["axes"], keepdim=a["keepdims"])
        elif op == "Reshape":
            v = ins[0].reshape(a["shape"])
        elif op == "Transpose":
            v = ins[0].permute(a["perm"])
        elif op == "Slice":
            index = [slice(None)] * ins[0].dim()
            for ax, s, e, st in zip(a["axes"], a["starts"], a["ends"], a["steps"]):
                index[ax] = slice(s, e, st)
            v = ins[0][tuple(index)]
        elif op == "Concat":
            v = torch.cat(ins, dim=a["axis"])
        elif op == "Expand":
            v = torch.broadcast_to(ins[0], a["shape"]).clone()
        elif op == "Squeeze":
            v = ins[0]
            for ax in sorted(a["axes"], reverse=True):
                v = v.squeeze(ax)
        elif op == "Unsqueeze":
            v = ins[0]
            for ax in sorted(a["axes"]):
                v = v.unsqueeze(ax)
        elif op == "Pad":
            r = ins[0].dim()
            pads = []
            for ax in reversed(range(r)):  # torch pads the last axis first
                pads += [a["pads"][ax], a["pads"][r + ax]]
            v = F.pad(ins[0], pads)
        elif op == "Trilu":
            v = torch.triu(ins[0], diagonal=a["k"]) if a["upper"] else torch.tril(ins[0], diagonal=a["k"])
        elif op == "Gather":
            idx = ins[1].to(torch.int64)
            v = torch.index_select(ins[0], a["axis"], idx.reshape(-1))
            v = v.reshape(list(ins[0].shape[: a["axis"]]) + list(idx.shape) + list(ins[0].shape[a["axis"] + 1:]))
        elif op == "GatherElements":
            v = torch.gather(ins[0], a["axis"], ins[1].to(torch.int64))
        elif op == "ScatterElements":
            idx = ins[1].to(torch.int64)
            if a["reduction"] == "add":
                v = ins[0].scatter_add(a["axis"], idx, ins[2])
            else:
                v = ins[0].scatter(a["axis"], idx, ins[2])
        else:
            raise ValueError(f"no torch rule for {op}")
        v = as_dtype(v.to(torch.float64), n["dtype"])
        assert list(v.shape) == list(shape), f"{case['id']}: {op} gave {list(v.shape)}, IR says {shape}"
        vals.append(v)
    return {o["name"]: [float(x) for x in vals[o["id"]].reshape(-1).tolist()] for o in case["outputs"]}


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "/tmp/op-cases.json"
    with open(src) as f:
        exported = json.load(f)
    golden = {"seed": exported["seed"], "perOp": exported["perOp"], "torch": torch.__version__, "cases": {}}
    for case in exported["cases"]:
        golden["cases"][case["id"]] = {"hash": case["hash"], "y": run(case)["y"]}
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "op_golden.json")
    with open(out, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
    print(f"wrote {out}: {len(golden['cases'])} cases, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
