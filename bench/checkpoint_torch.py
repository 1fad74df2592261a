#!/usr/bin/python3
"""Reads a stopwise checkpoint with nothing but the standard library and numpy,
loads it into the PyTorch reference model (bench/ref/), and checks that PyTorch
gives the same predictions as `stopwise predict` on the same inputs.

    bench/checkpoint_torch.py CKPT INPUTS [--stopwise build/stopwise]

INPUTS is a text file, one input per line: words for a gpt checkpoint (e.g.
cmudict), comma-separated features for an mlp checkpoint (e.g. fashion-mnist
pixels 0-255). Exits 1 if any prediction differs.

The safetensors layout: 8 bytes little-endian header length N, N bytes of JSON
(tensor name -> dtype, shape, data_offsets; "__metadata__" -> strings), then the
raw little-endian data.
"""
import argparse
import json
import os
import struct
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "ref"))
import torch_common  # noqa: E402

PAD, SEP, EOS, UNK = 0, 1, 2, 3


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            raise SystemExit(f"{path}: tensor {name} has dtype {t['dtype']}, expected F32")
        b, e = t["data_offsets"]
        tensors[name] = np.frombuffer(data[8 + n + b:8 + n + e], dtype="<f4").reshape(t["shape"])
    return tensors, meta


def parse_spec(text):
    kind, _, rest = text.partition(":")
    fields = dict(kv.split("=", 1) for kv in rest.split(",") if kv)
    return kind, fields


def load_into(model, tensors, torch):
    named = dict(model.named_parameters())
    with torch.no_grad():
        for ours, w in tensors.items():
            if ours.startswith("optimizer."):
                continue
            p = named.pop(torch_common.torch_name(ours))
            p.copy_(torch.from_numpy(w.copy()))
    if named:
        raise SystemExit(f"PyTorch parameters with no tensor in the checkpoint: {sorted(named)}")


def chars(text):
    return list(text)


def predict_gpt(model, meta, fields, lines, torch):
    vocab = json.loads(meta["vocab"])
    inputs, targets = vocab["input"], vocab["target"]
    first_target = 4 + len(inputs)
    ids = {s: 4 + i for i, s in enumerate(inputs)}
    spaced = vocab.get("target_mode") == "space"
    V, T = int(fields["vocab"]), int(fields["ctx"])
    allowed = torch.full((V,), float("-inf"))
    allowed[first_target:first_target + len(targets)] = 0
    allowed[EOS] = 0
    out = []
    model.eval()
    with torch.no_grad():
        for line in lines:
            seq = [ids.get(c, UNK) for c in chars(line)][:T - 2] + [SEP]
            gen = []
            while len(seq) < T:
                logits, _ = model(torch.tensor([seq]))
                tok = int(torch.argmax(logits[0, -1] + allowed))
                if tok == EOS:
                    break
                gen.append(targets[tok - first_target])
                seq.append(tok)
            out.append((" " if spaced else "").join(gen))
    return out


def predict_mlp(model, meta, lines, torch):
    labels = json.loads(meta["labels"])
    scale = labels.get("feature_scale", 1.0)
    x = torch.tensor([[float(v) * scale for v in line.split(",")] for line in lines], dtype=torch.float32)
    with torch.no_grad():
        logits, _ = model(x)
    return [labels["names"][i] for i in logits.argmax(1).tolist()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("inputs")
    ap.add_argument("--stopwise", default=os.path.join(os.path.dirname(HERE), "build", "stopwise"))
    a = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    tensors, meta = read_safetensors(a.checkpoint)
    kind, fields = parse_spec(meta["model"])
    with open(a.inputs) as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    if kind == "gpt":
        import torch_gpt

        model = torch_gpt.GPT(int(fields["vocab"]), int(fields["ctx"]), int(fields["d"]), int(fields["layers"]),
                              int(fields["heads"]), tied=fields["tied"] == "1")
        load_into(model, tensors, torch)
        ours_torch = predict_gpt(model, meta, fields, lines, torch)
    else:
        import torch_mlp

        hidden = tuple(int(h) for h in fields["hidden"].split("x"))
        model = torch_mlp.MLP(int(fields["inputs"]), hidden, int(fields["classes"]), fields["act"])
        load_into(model, tensors, torch)
        ours_torch = predict_mlp(model, meta, lines, torch)
    with open(a.inputs) as f:
        ours_c = subprocess.run([a.stopwise, "predict", "--model", a.checkpoint], stdin=f, capture_output=True,
                                text=True, check=True).stdout.splitlines()
    differ = [(l, p, c) for l, p, c in zip(lines, ours_torch, ours_c) if p != c]
    print(f"{a.checkpoint}: {kind}, {len(tensors)} tensors read with numpy; "
          f"{len(lines) - len(differ)}/{len(lines)} predictions of PyTorch equal stopwise's")
    for l, p, c in differ[:10]:
        print(f"  {l[:40]!r}: torch {p!r} stopwise {c!r}")
    sys.exit(1 if differ or len(ours_c) != len(lines) else 0)


if __name__ == "__main__":
    main()
