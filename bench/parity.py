#!/usr/bin/python3
"""Gradient parity of stopwise against PyTorch.

For each case, bench_parity_dump builds our model from a seed, runs one
training forward and backward on a seeded batch, and dumps the weights, the
batch, the loss and every gradient. Here PyTorch loads the same weights into
the reference models of bench/ref/ (float64 by default, so the reference's
own rounding stays out of the comparison), recomputes the loss and the
gradients, and compares them per tensor:

    err = max|ours - torch| / max(max|torch|, 1e-6)   must be <= 1e-4

A gradient that is zero everywhere on both sides would pass trivially, so a
case also fails when the reference's whole gradient is zero. Exits 1 on any
mismatch, 2 on bad usage.

    bench/parity.sh              (builds bench_parity_dump, then runs this)
    /usr/bin/python3 bench/parity.py --build build [--dtype float32] [--keep DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "ref"))
import torch_common  # noqa: E402
import torch_gpt  # noqa: E402
import torch_mlp  # noqa: E402

TOL = 1e-4

# (name, our spec, batch, T (0 = ctx), masked)
CASES = [
    ("gpt tied, masked, T = ctx", "gpt:layers=2,d=64,heads=4,ctx=16,vocab=32", 3, 0, True),
    ("gpt untied, T < ctx", "gpt:layers=1,d=32,heads=2,ctx=16,vocab=20,tied=0", 2, 11, False),
    ("gpt bench shape (d 128, 4 layers), masked", "gpt:layers=4,d=128,heads=4,ctx=32,vocab=64", 8, 0, True),
    ("mlp relu 20-64-32-5", "mlp:hidden=64x32,act=relu,inputs=20,classes=5", 16, 0, False),
    ("mlp gelu 784-256-10", "mlp:hidden=256,act=gelu,inputs=784,classes=10", 32, 0, False),
]


def load(d, name, dtype, count=None):
    return np.fromfile(os.path.join(d, name), dtype=dtype, count=-1 if count is None else count)


def check_case(build, label, spec, B, T, masked, dtype, workdir):
    cmd = [os.path.join(build, "bench", "bench_parity_dump"), "--spec", spec, "--batch", str(B), "--out", workdir]
    if T:
        cmd += ["--T", str(T)]
    if masked:
        cmd.append("--mask")
    subprocess.run(cmd, check=True)
    with open(os.path.join(workdir, "manifest.json")) as f:
        man = json.load(f)
    params = load(workdir, "params.f32", "<f4")
    grads = load(workdir, "grads.f32", "<f4")
    B, T = man["B"], man["T"]
    targets = torch.from_numpy(load(workdir, "targets.i32", "<i4").astype(np.int64))
    if man["kind"] == "gpt":
        model = torch_gpt.GPT(man["vocab"], man["ctx"], man["d_model"], man["layers"], man["heads"],
                              tied=bool(man["tied"]))
    else:
        model = torch_mlp.MLP(man["n_inputs"], man["hidden"], man["n_classes"], act=man["act"])
    model = model.to(dtype)
    named = dict(model.named_parameters())
    seen = set()
    with torch.no_grad():
        for t in man["tensors"]:
            tn = torch_common.torch_name(t["name"])
            if tn not in named:
                raise SystemExit(f"parity: {label}: our tensor {t['name']} has no PyTorch twin {tn}")
            p = named[tn]
            w = params[t["offset"]:t["offset"] + t["numel"]].reshape(t["shape"])
            if tuple(p.shape) != tuple(w.shape):
                raise SystemExit(f"parity: {label}: {t['name']} is {w.shape} here, {tuple(p.shape)} in PyTorch")
            p.copy_(torch.from_numpy(w.astype(np.float64)))
            seen.add(tn)
    missing = set(named) - seen
    if missing:
        raise SystemExit(f"parity: {label}: PyTorch parameters without a twin of ours: {sorted(missing)}")
    model.zero_grad()
    if man["kind"] == "gpt":
        inputs = torch.from_numpy(load(workdir, "inputs.i32", "<i4").astype(np.int64)).view(B, T)
        mask = torch.from_numpy(load(workdir, "mask.f32", "<f4")).to(dtype).view(B, T) if man["mask"] else None
        _, loss = model(inputs, targets.view(B, T), mask)
    else:
        feats = torch.from_numpy(load(workdir, "features.f32", "<f4").reshape(B, man["n_inputs"])).to(dtype)
        _, loss = model(feats, targets)
    loss.backward()

    ok = True
    ref_loss = loss.item()
    loss_err = abs(man["loss"] - ref_loss) / max(abs(ref_loss), 1e-6)
    print(f"{label}: {man['spec']}, batch {B}x{T}")
    print(f"  {'loss':28} ours {man['loss']:.7f} torch {ref_loss:.7f} rel err {loss_err:.2e}")
    ok &= loss_err <= TOL
    worst, total_ref = 0.0, 0.0
    for t in man["tensors"]:
        a = grads[t["offset"]:t["offset"] + t["numel"]].astype(np.float64)
        g = named[torch_common.torch_name(t["name"])].grad
        b = np.zeros_like(a) if g is None else g.detach().to(torch.float64).numpy().reshape(-1)
        scale = max(np.abs(b).max(), 1e-6)
        err = np.abs(a - b).max() / scale
        total_ref += float((b * b).sum())
        worst = max(worst, err)
        bad = err > TOL
        ok &= not bad
        if bad or len(man["tensors"]) <= 16:
            print(f"  {t['name']:28} max|grad| {np.abs(b).max():.3e} rel err {err:.2e}{'  MISMATCH' if bad else ''}")
    if total_ref == 0.0:
        print("  the reference gradient is zero everywhere: the check would pass trivially")
        ok = False
    print(f"  worst tensor rel err {worst:.2e} over {len(man['tensors'])} tensors: {'ok' if ok else 'FAIL'}")
    return ok, {"case": label, "spec": man["spec"], "loss": man["loss"], "torch_loss": ref_loss,
                "loss_rel_err": loss_err, "worst_grad_rel_err": worst, "ok": bool(ok)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(HERE), "build"))
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                    help="PyTorch's precision for the reference (float64: ours is compared with the exact value)")
    ap.add_argument("--keep", help="dump the cases into this folder instead of a temporary one")
    ap.add_argument("--json", help="also write the results as JSON here")
    a = ap.parse_args()
    dtype = torch.float64 if a.dtype == "float64" else torch.float32
    torch.set_num_threads(1)
    results, all_ok = [], True
    with tempfile.TemporaryDirectory() as tmp:
        root = a.keep or tmp
        for i, (label, spec, B, T, masked) in enumerate(CASES):
            d = os.path.join(root, f"case{i}")
            os.makedirs(d, exist_ok=True)
            ok, r = check_case(a.build, label, spec, B, T, masked, dtype, d)
            results.append(r)
            all_ok &= ok
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"bench": "parity", "tolerance": TOL, "reference_dtype": a.dtype, "cases": results}, f, indent=2)
    print("parity:", "all cases agree to 1e-4" if all_ok else "MISMATCH")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
