#!/usr/bin/env python3
"""BENCH.md section 2, tokens to target: replay every baseline stopping policy
and the tuned one over recorded full-budget curves, side by side with the
oracle. All replays go through `stopwise replay` / `stopwise tune` (the C
code path a live controller runs); this script only gathers and prints.

  python3 bench/tokens.py --task fashion-mnist --budget 2.7M \
      --curves bench/results/curves/fashion-mnist [--stopwise build/stopwise]

Writes bench/results/tokens-TASK.json, tokens-TASK.svg (tokens vs shortfall)
and tokens-TASK-pareto.csv; prints a table.
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys

BASELINES = [
    ("no stopping", "none"),
    ("keras patience 2", "patience=2"),
    ("keras patience 5", "patience=5"),
    ("keras patience 10", "patience=10"),
    ("sklearn n_iter_no_change=10 tol=1e-4", "patience=10:min_delta=0.01%"),
    ("prechelt GL5", "gl=5"),
    ("prechelt PQ0.5", "pq=0.5"),
    ("prechelt UP3", "up=3"),
]
FIXED_PATIENCE = {"keras patience 2", "keras patience 5", "keras patience 10",
                  "sklearn n_iter_no_change=10 tol=1e-4"}


def tokens(text):
    m = {"k": 1e3, "M": 1e6, "G": 1e9}
    return int(float(text[:-1]) * m[text[-1]]) if text[-1] in m else int(text)


def read_curve(path):
    with open(path) as f:
        head = f.readline().strip().split(",")
        rows = [line.strip().split(",") for line in f if line.strip()]
    ti, ei = head.index("tokens"), head.index("val_em")
    return [(int(r[ti]), float(r[ei]) if r[ei] not in ("", "nan") else float("nan")) for r in rows]


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("tokens.py: %s failed (%d): %s" % (" ".join(cmd[:3]), p.returncode, p.stderr.strip()))
    return json.loads(p.stdout)


def replay(stopwise, policy, paths):
    args = [stopwise, "replay", "--policy", policy, "--json"]
    for p in paths:
        args += ["--curve", p]
    j = run(args)
    return j["curves"] if "curves" in j else [j]


def summarise(name, policy, per_curve, budget, target, oracle_tokens):
    frac = [r["stop_tokens"] / budget for r in per_curve]
    short = [r["shortfall"] for r in per_curve]
    met = [r["best_em"] is not None and r["best_em"] >= target for r in per_curve]
    ttt = [r["stop_tokens"] if m else budget for r, m in zip(per_curve, met)]
    return {
        "name": name, "policy": policy,
        "tokens_pct": 100 * statistics.mean(frac),
        "mean_shortfall": statistics.mean(short), "worst_shortfall": max(short),
        "targets_met": sum(met), "n": len(met),
        "tokens_to_target_pct": 100 * statistics.mean(ttt) / budget,
        "regret": statistics.mean(r["stop_tokens"] for r in per_curve) / statistics.mean(oracle_tokens),
        "test_em_at_stop": None,  # the recorded curves carry validation EM only
        "per_curve": [{"stop_tokens": r["stop_tokens"], "best_em": r["best_em"], "shortfall": r["shortfall"],
                       "policy": r.get("policy", policy)} for r in per_curve],
    }


def svg(rows, path, title):
    w, h, ml, mb, mt, mr = 760, 480, 70, 50, 40, 260
    xs = [r["tokens_pct"] for r in rows]
    ys = [r["mean_shortfall"] for r in rows]
    ymax = max(max(ys) * 1.1, 0.6)

    def px(x):
        return ml + (w - ml - mr) * x / 100.0

    def py(y):
        return h - mb - (h - mb - mt) * y / ymax

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="22" font-size="15">%s</text>' % (ml, title)]
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (ml, h - mb, w - mr, h - mb))
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (ml, h - mb, ml, mt))
    for t in range(0, 101, 20):
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%d%%</text>' % (px(t), h - mb + 16, t))
    steps = 5
    for k in range(steps + 1):
        y = ymax * k / steps
        out.append('<text x="%d" y="%.1f" text-anchor="end">%.2f</text>' % (ml - 6, py(y) + 4, y))
    out.append('<text x="%.1f" y="%d" text-anchor="middle">tokens used, %% of T_max</text>' % ((ml + w - mr) / 2, h - 12))
    out.append('<text x="16" y="%.1f" transform="rotate(-90 16 %.1f)" text-anchor="middle">mean EM shortfall (points)</text>'
               % ((mt + h - mb) / 2, (mt + h - mb) / 2))
    out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#999" stroke-dasharray="4 3"/>' % (ml, py(0.5), w - mr, py(0.5)))
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#000"]
    for i, r in enumerate(rows):
        c = colors[i % len(colors)]
        shape = "rect" if r["name"].startswith("tuned") else "circle"
        x, y = px(r["tokens_pct"]), py(r["mean_shortfall"])
        if shape == "rect":
            out.append('<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/>' % (x - 5, y - 5, c))
        else:
            out.append('<circle cx="%.1f" cy="%.1f" r="5" fill="%s"/>' % (x, y, c))
        out.append('<circle cx="%d" cy="%d" r="5" fill="%s"/>' % (w - mr + 20, mt + 18 * i + 10, c))
        out.append('<text x="%d" y="%d">%s</text>' % (w - mr + 30, mt + 18 * i + 14, r["name"]))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stopwise", default="build/stopwise")
    ap.add_argument("--task", required=True)
    ap.add_argument("--budget", required=True)
    ap.add_argument("--curves", required=True, help="folder of seed-K.csv curves")
    ap.add_argument("--epsilon", type=float, default=0.5)
    ap.add_argument("--out", default="bench/results")
    a = ap.parse_args()
    budget = tokens(a.budget)
    paths = sorted(glob.glob(os.path.join(a.curves, "*.csv")))
    if len(paths) < 2:
        sys.exit("tokens.py: need at least 2 curves in %s" % a.curves)
    curves = [read_curve(p) for p in paths]
    eps = a.epsilon
    bests = [max(em for _, em in c if em == em) for c in curves]
    target = statistics.median(bests) - eps
    # the oracle: first evaluation whose best-so-far EM is within eps of the curve's best
    oracle = []
    for c, b in zip(curves, bests):
        run_best = float("-inf")
        for t, em in c:
            run_best = max(run_best, em) if em == em else run_best
            if run_best >= b - eps:
                oracle.append({"stop_tokens": t, "best_em": run_best, "shortfall": b - run_best})
                break
    oracle_tokens = [o["stop_tokens"] for o in oracle]

    rows = []
    for name, pol in BASELINES:
        rows.append(summarise(name, pol, replay(a.stopwise, pol, paths), budget, target, oracle_tokens))
    # the tuned policy, leave-one-curve-out: fold k chose on the other curves
    # and is scored on curve k (stopwise tune's cv_folds)
    os.makedirs(a.out, exist_ok=True)
    pareto = os.path.join(a.out, "tokens-%s-pareto.csv" % a.task)
    args = [a.stopwise, "tune", "--budget", a.budget, "--epsilon", str(eps), "--no-store", "--json", "--pareto", pareto]
    for p in paths:
        args += ["--curves", p]
    tuned = run(args)
    per = []
    for k, fold in enumerate(tuned["cv_folds"]):
        assert fold["held_out"] == [k], fold
        r = replay(a.stopwise, fold["policy"], [paths[k]])[0]
        r["policy"] = fold["policy"]
        per.append(r)
    rows.append(summarise("tuned (LOO CV)", tuned["policy"], per, budget, target, oracle_tokens))
    rows.append(summarise("oracle", "oracle", oracle, budget, target, oracle_tokens))

    tuned_row = rows[-2]
    dominated_by = [r["name"] for r in rows if r["name"] in FIXED_PATIENCE and
                    r["tokens_pct"] <= tuned_row["tokens_pct"] and r["mean_shortfall"] <= tuned_row["mean_shortfall"] and
                    (r["tokens_pct"] < tuned_row["tokens_pct"] or r["mean_shortfall"] < tuned_row["mean_shortfall"])]

    print("task %s: %d curves, T_max %s tokens, target EM %.2f (median best %.2f - %.2g)"
          % (a.task, len(paths), a.budget, target, statistics.median(bests), eps))
    print("%-38s %8s %9s %9s %7s %9s %7s" % ("policy", "tokens%", "mean s", "worst s", "met", "to-tgt%", "regret"))
    for r in rows:
        print("%-38s %7.1f%% %9.3f %9.3f %3d/%-3d %8.1f%% %7.2f" % (
            r["name"], r["tokens_pct"], r["mean_shortfall"], r["worst_shortfall"], r["targets_met"], r["n"],
            r["tokens_to_target_pct"], r["regret"]))
    print("tuned policy (chosen on all curves): %s" % tuned["policy"])
    print("tuned, cross-validated: %.1f%% of T_max, mean shortfall %.3f; %s"
          % (100 * tuned["cv_tokens_fraction"], tuned["cv_shortfall"],
             "no fixed-patience baseline is better on both axes" if not dominated_by
             else "dominated by " + ", ".join(dominated_by)))
    print("replay: %d candidate policies x %d curves in %.2f s" % (tuned["n_candidates"], len(paths), tuned["replay_seconds"]))
    print("test EM at the stop: not available (the recorded curves hold validation EM only)")
    svg_path = os.path.join(a.out, "tokens-%s.svg" % a.task)
    svg([r for r in rows], svg_path, "%s: tokens vs EM shortfall (%d seeds, T_max %s)" % (a.task, len(paths), a.budget))
    res = {"task": a.task, "budget": budget, "epsilon": eps, "target_em": target, "curves": paths,
           "best_em": bests, "rows": rows, "tuned": {k: tuned[k] for k in
                                                      ("policy", "cv_tokens_fraction", "cv_shortfall", "cv_worst_shortfall",
                                                       "families", "n_candidates", "replay_seconds")},
           "tuned_dominated_by_fixed_patience": dominated_by}
    with open(os.path.join(a.out, "tokens-%s.json" % a.task), "w") as f:
        json.dump(res, f, indent=1)
    print("wrote %s, %s, %s" % (os.path.join(a.out, "tokens-%s.json" % a.task), svg_path, pareto))


if __name__ == "__main__":
    main()
