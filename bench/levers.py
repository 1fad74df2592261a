#!/usr/bin/env python3
"""The tables behind bench/levers.sh: every lever against the default recipe.

    bench/levers.py --task TASK [--results bench/results]
    bench/levers.py --params CHECKPOINT.safetensors     (prints its parameter count)

Reads RESULTS/curves/levers-TASK/settings.txt (LEVER|SETTING|OPTIONS, in
order) and, per setting, seed-K.csv (curve.csv: test_em at every evaluation)
and seed-K.json (the run's --json result plus "params"). For each setting:

  target       the default recipe's final test EM: the mean over its seeds of
               the test EM at its best checkpoint (the evaluation with the
               highest validation EM, the earliest on ties), read from the
               curve, so every number here is on the same test sample
  tokens to target
               per seed, the first evaluation whose test EM reaches the
               target, plus the probe run's tokens (score-based subsampling,
               difficulty curriculum); the mean over the seeds that reach it,
               as tokens and as a fraction of the budget, and how many did
  EM at equal tokens
               the test EM at the best checkpoint within the same budget,
               mean +- sd over seeds, and its difference from the default's
  wall         mean wall seconds of the run (probe and evaluation included)
  model        parameters of the best checkpoint
  examples     training examples the run used (after dedupe / subsample)

Writes RESULTS/levers-TASK.json and RESULTS/levers-TASK.md (the table) and
prints the table. Rows without recorded runs are left out.
"""
import argparse
import csv
import json
import math
import os
import re
import statistics
import struct


def params_of(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    total = 0
    for k, v in header.items():
        if k == "__metadata__" or k in ("optimizer.state", "average.state"):
            continue
        total += math.prod(v["shape"])
    return total


def slug_of(lever, setting):
    return re.sub(r"_+", "_", re.sub(r"[ =+,:]", "_", f"{lever}-{setting}"))


def read_curve(path):
    with open(path) as f:
        return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(f)]


def best_point(curve):
    """The evaluation the run would keep: highest val_em, earliest on ties."""
    best = None
    for row in curve:
        if best is None or row["val_em"] > best["val_em"]:
            best = row
    return best


def fmt_tokens(n):
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= div:
            return f"{n / div:.3g}{unit}"
    return f"{n:.0f}"


def mean_sd(xs):
    if not xs:
        return float("nan"), float("nan")
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def seeds_of(folder):
    out = []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        m = re.fullmatch(r"seed-(\d+)\.csv", name)
        if m and os.path.exists(os.path.join(folder, f"seed-{m.group(1)}.json")):
            out.append(int(m.group(1)))
    return out


def table(task, results):
    base = os.path.join(results, "curves", f"levers-{task}")
    settings = []
    with open(os.path.join(base, "settings.txt")) as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                lever, setting, opts = line.split("|", 2)
                settings.append((lever, setting, opts))
    runs = {}
    for lever, setting, opts in settings:
        folder = os.path.join(base, slug_of(lever, setting))
        per = []
        for seed in seeds_of(folder):
            curve = read_curve(os.path.join(folder, f"seed-{seed}.csv"))
            with open(os.path.join(folder, f"seed-{seed}.json")) as f:
                res = json.load(f)
            if curve:
                per.append((seed, curve, res))
        if per:
            runs[(lever, setting)] = (opts, per)
    default = runs.get(("default", "recipe"))
    if not default:
        raise SystemExit(f"levers.py: no default recipe recorded under {base}")
    target = statistics.mean(best_point(c)["test_em"] for _, c, _ in default[1])
    rows = []
    for lever, setting, _ in settings:
        if (lever, setting) not in runs:
            continue
        opts, per = runs[(lever, setting)]
        ems, reach, walls = [], [], []
        budget = per[0][2]["budget"]
        for seed, curve, res in per:
            ems.append(best_point(curve)["test_em"])
            walls.append(res.get("wall_s", float("nan")))
            hit = next((r["tokens"] for r in curve if r["test_em"] >= target - 1e-9), None)
            if hit is not None:
                reach.append(hit + res.get("probe_tokens", 0))
        em, sd = mean_sd(ems)
        rows.append({
            "lever": lever, "setting": setting, "options": opts, "seeds": [s for s, _, _ in per],
            "budget": budget,
            "tokens_to_target": statistics.mean(reach) if reach else None,
            "fraction_of_budget": statistics.mean(reach) / budget if reach else None,
            "reached": len(reach),
            "em": em, "em_sd": sd,
            "wall_s": statistics.mean(walls),
            "params": per[0][2].get("params"),
            "train_examples": per[0][2].get("train_examples"),
            "probe_tokens": per[0][2].get("probe_tokens", 0),
        })
    base_em = next(r["em"] for r in rows if r["lever"] == "default")
    for r in rows:
        r["em_delta"] = r["em"] - base_em
    return target, rows


def markdown(task, target, rows):
    out = [f"{task}: target = the default recipe's final test EM, {target:.2f}%"
           f" (budget {fmt_tokens(rows[0]['budget'])} tokens)", "",
           "| lever | setting | tokens to target (fraction) | EM at equal tokens | Δ EM | wall s | model | examples |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        n = len(r["seeds"])
        if r["tokens_to_target"] is None:
            tt = f"not reached (0/{n})"
        else:
            tt = f"{fmt_tokens(r['tokens_to_target'])} ({r['fraction_of_budget']:.2f})"
            if r["reached"] < n:
                tt += f" {r['reached']}/{n}"
        em = f"{r['em']:.2f} ± {r['em_sd']:.2f}" if n > 1 else f"{r['em']:.2f} (1 seed)"
        out.append(f"| {r['lever']} | {r['setting']} | {tt} | {em} | {r['em_delta']:+.2f} | {r['wall_s']:.0f} | "
                   f"{r['params']:,} | {r['train_examples']:,} |")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task")
    ap.add_argument("--results", default="bench/results")
    ap.add_argument("--params")
    a = ap.parse_args()
    if a.params:
        print(params_of(a.params))
        return
    if not a.task:
        ap.error("--task or --params")
    target, rows = table(a.task, a.results)
    md = markdown(a.task, target, rows)
    with open(os.path.join(a.results, f"levers-{a.task}.json"), "w") as f:
        json.dump({"task": a.task, "target_em": target, "rows": rows}, f, indent=1)
    with open(os.path.join(a.results, f"levers-{a.task}.md"), "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()
