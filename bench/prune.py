#!/usr/bin/env python3
"""The pruning table of bench/prune.sh: size, speed and test EM per row over
the seeds, against the dense model and against the model trained from scratch
with the pruned model's parameter count; and rows in bench/levers.sh's form
(lever, setting, tokens to the default recipe's final EM as a fraction of its
tokens, EM at equal tokens, wall time, model size).

Tokens to the default recipe's EM: the first evaluation of the run whose
validation EM (select sample, curve.csv) reaches the dense run's best
validation EM of the same seed, counting for a pruning run only evaluations
after its schedule's end (before it the weights are not the pruned model);
"-" when never reached.

    bench/prune.py --log RUNS/measurements.jsonl --runs RUNS --out bench/results/prune-fashion-mnist
"""
import argparse
import csv
import json
import math
import os
import statistics


def mean_sd(xs):
    if not xs:
        return float("nan"), float("nan")
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def curve(path):
    with open(path) as f:
        return [(int(r["tokens"]), float(r["val_em"])) for r in csv.DictReader(f)]


def tokens_to(runs, row, seed, target, budget):
    names = {"dense": "dense", "gradual": "gradual", "scratch": "scratch", "magnitude": "magnitude"}
    if row not in names:
        return None
    path = os.path.join(runs, f"{names[row]}-seed-{seed}", "curve.csv")
    if not os.path.exists(path):
        return None
    start = 0.6 * budget if row in ("gradual", "magnitude") else 0  # the schedule's end (end=60%)
    for t, em in curve(path):
        if t >= start and em >= target:
            return t
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--runs", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rows = {}
    with open(a.log) as f:
        for line in f:
            m = json.loads(line)
            rows.setdefault(m["row"], []).append(m)
    dense = {m["seed"]: m for m in rows.get("dense", [])}
    order = [r for r in ("dense", "gradual", "scratch", "one-shot", "finetune", "magnitude") if r in rows]
    settings = {
        "dense": "mlp 784-256-10 (default recipe)",
        "gradual": "--prune neurons:keep=0.5 -> 784-128-10",
        "scratch": "mlp 784-128-10 from scratch",
        "one-shot": "stopwise prune --neurons 0.5, no fine-tuning",
        "finetune": "one-shot + train --init, 10% of the budget",
        "magnitude": "--prune magnitude:sparsity=0.5 (dense storage)",
    }
    d_em = [dense[s]["eval"]["em"] for s in dense]
    d_speed = [dense[s]["speed"]["examples_per_cpu_s"] for s in dense]
    d_pred = [dense[s]["predict_cpu_s"] for s in dense]
    table, levers = [], []
    for r in order:
        ms = rows[r]
        em = [m["eval"]["em"] for m in ms]
        delta = [m["eval"]["em"] - dense[m["seed"]]["eval"]["em"] for m in ms if m["seed"] in dense]
        speed = [m["speed"]["examples_per_cpu_s"] for m in ms]
        pred = [m["predict_cpu_s"] for m in ms]
        wall = [m["train"]["wall_s"] for m in ms if isinstance(m.get("train"), dict)]
        ttt = []
        for m in ms:
            dm = dense.get(m["seed"])
            if dm and isinstance(dm.get("train"), dict):
                t = tokens_to(a.runs, r, m["seed"], dm["train"]["best_val_em"], dm["tokens"])
                ttt.append(None if t is None else t / dm["tokens"])
        em_m, em_s = mean_sd(em)
        de_m, de_s = mean_sd(delta)
        entry = {
            "row": r,
            "setting": settings[r],
            "seeds": sorted(m["seed"] for m in ms),
            "params": ms[0]["speed"]["params"],
            "model": ms[0]["speed"]["model"],
            "bytes": ms[0]["bytes"],
            "tokens": statistics.mean(m["tokens"] for m in ms),
            "test_em_mean": em_m,
            "test_em_sd": em_s,
            "delta_em_mean": de_m,
            "delta_em_sd": de_s,
            "forward_examples_per_cpu_s": statistics.median(speed),
            "forward_examples_per_wall_s": statistics.median(m["speed"]["examples_per_s"] for m in ms),
            "forward_speedup": statistics.median(speed) / statistics.median(d_speed) if d_speed else float("nan"),
            "predict_cpu_s": statistics.median(pred),
            "predict_wall_s": statistics.median(m["predict_s"] for m in ms),
            "predict_speedup": statistics.median(d_pred) / statistics.median(pred) if d_pred else float("nan"),
            "tokens_to_dense_em": ttt,
            "wall_s_mean": statistics.mean(wall) if wall else None,
        }
        table.append(entry)
        reached = [x for x in ttt if x is not None]
        levers.append({
            "lever": "prune",
            "setting": settings[r],
            "tokens_to_target_frac": statistics.mean(reached) if len(reached) == len(ttt) and ttt else None,
            "tokens_to_target_reached": f"{len(reached)}/{len(ttt)}",
            "em_mean": em_m,
            "em_sd": em_s,
            "wall_s": entry["wall_s_mean"],
            "model_params": entry["params"],
        })
    with open(a.out + ".json", "w") as f:
        json.dump({"task": "fashion-mnist", "rows": table, "levers_rows": levers}, f, indent=1)
    lines = [
        "| model | params | file | test EM (mean ± sd) | ΔEM vs dense | forward ex/CPU-s | speed-up | "
        "`predict` 10k images, CPU | speed-up | tokens | tokens to dense EM |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for e in table:
        ttt = ", ".join("-" if x is None else f"{x:.2f}" for x in e["tokens_to_dense_em"]) or "-"
        lines.append(
            f"| {e['setting']} | {e['params']:,} | {e['bytes'] / 1024:.0f} kB | {e['test_em_mean']:.2f} ± "
            f"{e['test_em_sd']:.2f} | {e['delta_em_mean']:+.2f} ± {e['delta_em_sd']:.2f} | "
            f"{e['forward_examples_per_cpu_s']:,.0f} | {e['forward_speedup']:.2f}x | {e['predict_cpu_s']:.2f} s | "
            f"{e['predict_speedup']:.2f}x | {e['tokens'] / 1e6:.2f}M | {ttt} |")
    text = "\n".join(lines) + "\n"
    with open(a.out + ".md", "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
