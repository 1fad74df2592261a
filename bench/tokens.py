#!/usr/bin/env python3
"""BENCH.md section 2, tokens to target: replay every baseline stopping policy
and the tuned one over recorded full-budget curves, side by side with the
oracle. All replays go through `stopwise replay` / `stopwise tune` (the C
code path a live controller runs); this script only gathers and prints.

  python3 bench/tokens.py --task fashion-mnist --budget 2.7M \
      --curves bench/results/curves/fashion-mnist [--stopwise build/stopwise]

Writes bench/results/tokens-TASK.json, tokens-TASK.svg (tokens vs shortfall)
and tokens-TASK-pareto.csv; prints a table.

Stop and anneal: when every curve carries branch columns
(val_em_annealed:c=C:shape=S and anneal_tokens:c=C:shape=S at fork rows,
docs/STOPPING.md), every stop is scored as `stopwise replay` scores a policy
with a cooldown: EM = max(best checkpoint, annealed EM at the stop), tokens
charged = T_stop + the cooldown's. The baselines get the --cooldown family
(default: c=0.1 linear if the curves have it, else their first family); the
tuner tunes the family with the thresholds; the oracle is the cheapest family's
first stop within epsilon of the curve's best score. Test EM at the stop comes
from test_em (the kept checkpoint) or test_em_annealed (measured at a fork,
else the fork test gains over the trunk's test_em interpolated in tokens).
--cosine DIR (seed-K.csv of full-budget cosine runs, same names) adds the
headline: tokens as a fraction of the cosine run's, and the test-EM shortfall
against its final checkpoint.
"""
import argparse
import glob
import json
import os
import re
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


def read_columns(path):
    """The curve as {column: [value or None]}; empty cells are None."""
    with open(path) as f:
        head = f.readline().strip().split(",")
        rows = [line.strip().split(",") for line in f if line.strip()]
    cols = {h: [] for h in head}
    for r in rows:
        for h, cell in zip(head, r):
            cols[h].append(float(cell) if cell.strip() != "" else None)
    return cols


def read_curve(path):
    cols = read_columns(path)
    nan = float("nan")
    return [(int(t), nan if e is None else e) for t, e in zip(cols["tokens"], cols["val_em"])]


FAMILY = re.compile(r"^val_em_annealed:c=([0-9.eE+-]+):shape=(linear|sqrt)$")


def cooldown_families(paths):
    """Families (text "cooldown=C:shape=S") every curve carries, in the first
    curve's column order."""
    fams = None
    for p in paths:
        with open(p) as f:
            head = f.readline().strip().split(",")
        here = []
        for h in head:
            m = FAMILY.match(h)
            if m and "anneal_tokens:c=%s:shape=%s" % (m.group(1), m.group(2)) in head:
                here.append("cooldown=%s:shape=%s" % (m.group(1), m.group(2)))
        fams = here if fams is None else [x for x in fams if x in here]
    return fams or []


def with_cooldown(policy, fam):
    if not fam:
        return policy
    return fam if policy == "none" else policy + "," + fam


def interp_gain(cols, fam, k, metric):
    """metric_annealed - metric at row k: measured at a fork, else the fork
    gains interpolated linearly in tokens (the nearest fork's outside)."""
    c, shape = re.match(r"cooldown=([^:]+):shape=(\w+)", fam).groups()
    a = cols.get("%s_annealed:c=%s:shape=%s" % (metric, c, shape))
    base = cols.get(metric)
    if a is None or base is None:
        return None
    t = cols["tokens"]
    forks = [j for j in range(len(t)) if a[j] is not None and base[j] is not None]
    if not forks:
        return None
    if k in forks:
        return a[k] - base[k]
    before = [j for j in forks if j < k]
    after = [j for j in forks if j > k]
    if not before:
        return a[after[0]] - base[after[0]]
    if not after:
        return a[before[-1]] - base[before[-1]]
    p, q = before[-1], after[0]
    gp, gq = a[p] - base[p], a[q] - base[q]
    return gp + (gq - gp) * (t[k] - t[p]) / (t[q] - t[p])


def test_em_at_stop(cols, r, fam):
    """Test EM the stop delivers (None without test columns): the kept
    checkpoint's test_em, or after the cooldown when the annealed validation
    EM won (test_em_annealed at a fork, else estimated)."""
    test = cols.get("test_em")
    if test is None:
        return None
    a = r.get("anneal")
    if fam and a and a.get("em") is not None and (r["best_em"] is None or a["em"] >= r["best_em"]):
        k = r["stop_index"]
        g = interp_gain(cols, fam, k, "test_em")
        if g is None or test[k] is None:
            return None
        return test[k] + g
    return test[r["best_index"]]


def merge_average(paths, folder, outdir):
    """The trunks as a run with a weight average would have seen them: each
    trunk's curve with val_em, val_loss and test_em taken from the run of the
    same seed and settings with --average (FOLDER/seed-K.csv, the weights its
    evaluation chose), the branches' columns kept (the anneal starts from the
    raw weights, as a live cooldown does). The average never changes training,
    so that run's raw curve must be the trunk's, row for row; anything else is
    refused. Returns the merged curves' paths (under OUTDIR)."""
    import csv
    os.makedirs(outdir, exist_ok=True)
    out = []
    for p in paths:
        q = os.path.join(folder, os.path.basename(p))
        if not os.path.exists(q):
            sys.exit("tokens.py: --average: no %s for %s" % (q, p))
        with open(p) as f:
            trunk = list(csv.DictReader(f))
            head = trunk and list(trunk[0].keys())
        with open(q) as f:
            avg = list(csv.DictReader(f))
        if len(avg) != len(trunk):
            sys.exit("tokens.py: --average: %s has %d rows, %s %d" % (q, len(avg), p, len(trunk)))
        for line, (t, v) in enumerate(zip(trunk, avg), start=2):
            if t["tokens"] != v["tokens"] or abs(float(t["val_em"]) - float(v["val_em_raw"])) > 1e-9:
                sys.exit("tokens.py: --average: %s line %d: raw EM %s at %s tokens, the trunk %s has %s at %s"
                         % (q, line, v["val_em_raw"], v["tokens"], p, t["val_em"], t["tokens"]))
            for col in ("val_em", "val_loss", "test_em"):
                t[col] = v[col]
        r = os.path.join(outdir, os.path.basename(p))
        with open(r, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=head, lineterminator="\n")
            w.writeheader()
            w.writerows(trunk)
        out.append(r)
    return out


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("tokens.py: %s failed (%d): %s" % (" ".join(cmd[:3]), p.returncode, p.stderr.strip()))
    return json.loads(p.stdout)


def replay(stopwise, policy, paths, oracle=None):
    args = [stopwise, "replay", "--policy", policy, "--json"]
    if oracle is not None:
        args += ["--oracle", repr(oracle)]
    for p in paths:
        args += ["--curve", p]
    j = run(args)
    return j["curves"] if "curves" in j else [j]


def charged(r):
    return r.get("charged_tokens", r["stop_tokens"])


def score(r):
    return r["score_em"] if r.get("score_em") is not None else r["best_em"]


def summarise(name, policy, per_curve, budget, target, oracle_tokens, cosine=None):
    frac = [charged(r) / budget for r in per_curve]
    short = [r["shortfall"] for r in per_curve]
    met = [score(r) is not None and score(r) >= target for r in per_curve]
    ttt = [charged(r) if m else budget for r, m in zip(per_curve, met)]
    tests = [r.get("test_em") for r in per_curve]
    row = {
        "name": name, "policy": policy,
        "tokens_pct": 100 * statistics.mean(frac),
        "mean_shortfall": statistics.mean(short), "worst_shortfall": max(short),
        "targets_met": sum(met), "n": len(met),
        "tokens_to_target_pct": 100 * statistics.mean(ttt) / budget,
        "regret": statistics.mean(charged(r) for r in per_curve) / statistics.mean(oracle_tokens),
        "test_em_at_stop": statistics.mean(tests) if tests and None not in tests else None,
        "per_curve": [{"stop_tokens": r["stop_tokens"], "charged_tokens": charged(r), "best_em": r["best_em"],
                       "score_em": score(r), "shortfall": r["shortfall"], "test_em": r.get("test_em"),
                       "annealed_predicted": (r.get("anneal") or {}).get("predicted"),
                       "policy": r.get("policy", policy)} for r in per_curve],
    }
    if cosine:
        # the headline: against the cosine full-budget run of the same seed
        cfrac = [charged(r) / c["tokens"] for r, c in zip(per_curve, cosine)]
        row["cosine_tokens_pct"] = 100 * statistics.mean(cfrac)
        ts = [c["test_em"] - t for t, c in zip(tests, cosine) if t is not None and c["test_em"] is not None]
        if len(ts) == len(per_curve):
            row["mean_test_shortfall"] = statistics.mean(ts)
            row["worst_test_shortfall"] = max(ts)
    return row


def oracle_rows(stopwise, paths, fams, eps):
    """Per curve, the oracle on the same footing as the policies: without
    families, the first evaluation whose best-so-far EM is within eps of the
    curve's best; with families, for each the first stop whose score is
    within eps of the best score over all families, and the cheapest."""
    out = []
    for p in paths:
        if not fams:
            r = replay(stopwise, "none", [p], oracle=eps)[0]["oracle"]
            out.append(r)
            continue
        firsts = {f: replay(stopwise, f, [p], oracle=eps)[0] for f in fams}
        ref = max(firsts[f]["curve_best_em"] for f in fams)
        best = None
        for f in fams:
            # within eps of ref = within eps - (ref - best_f) of the family's own best
            slack = eps - (ref - firsts[f]["curve_best_em"])
            if slack < 0:
                continue  # this family cannot come within eps of the best
            o = replay(stopwise, f, [p], oracle=slack)[0]["oracle"] if slack != eps else firsts[f]["oracle"]
            o = dict(o, policy="oracle," + f, shortfall=ref - o["score_em"])
            if best is None or charged(o) < charged(best):
                best = o
        out.append(best)
    return out


def read_cosine(folder, paths):
    """The cosine full-budget run of each seed: its tokens and the test EM of
    its best validation checkpoint (None without test_em)."""
    res = []
    for p in paths:
        q = os.path.join(folder, os.path.basename(p))
        if not os.path.exists(q):
            sys.exit("tokens.py: --cosine: no %s for %s" % (q, p))
        cols = read_columns(q)
        em, test = cols["val_em"], cols.get("test_em")
        k = max(range(len(em)), key=lambda i: float("-inf") if em[i] is None else em[i])
        res.append({"tokens": cols["tokens"][-1], "test_em": test[k] if test else None})
    return res


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
    ap.add_argument("--cooldown", help="the baselines' cooldown family, e.g. cooldown=0.1:shape=linear")
    ap.add_argument("--cosine", help="folder of the cosine full-budget runs' curves (same file names)")
    ap.add_argument("--families", help="rule families for stopwise tune (default: all)")
    ap.add_argument("--average", help="folder of the same trunks recorded with --average (seed-K.csv): "
                    "replay with the weights each evaluation chose")
    a = ap.parse_args()
    budget = tokens(a.budget)
    paths = sorted(glob.glob(os.path.join(a.curves, "*.csv")))
    if len(paths) < 2:
        sys.exit("tokens.py: need at least 2 curves in %s" % a.curves)
    if a.average:
        paths = merge_average(paths, a.average, os.path.join(a.out, "curves-%s" % a.task))
    curves = [read_curve(p) for p in paths]
    columns = [read_columns(p) for p in paths]
    fams = cooldown_families(paths)
    fam = None
    if fams:
        fam = a.cooldown or ("cooldown=0.1:shape=linear" if "cooldown=0.1:shape=linear" in fams else fams[0])
        if fam not in fams:
            sys.exit("tokens.py: --cooldown %s: the curves carry %s" % (fam, ", ".join(fams)))
    cosine = read_cosine(a.cosine, paths) if a.cosine else None
    eps = a.epsilon
    bests = [max(em for _, em in c if em == em) for c in curves]
    target = statistics.median(bests) - eps
    oracle = oracle_rows(a.stopwise, paths, fams, eps)
    oracle_tokens = [charged(o) for o in oracle]

    def with_test(results, fam_of):
        for k, r in enumerate(results):
            r["test_em"] = test_em_at_stop(columns[k], r, fam_of(k, r))
        return results

    rows = []
    for name, pol in BASELINES:
        per = with_test(replay(a.stopwise, with_cooldown(pol, fam), paths), lambda k, r: fam)
        rows.append(summarise(name + (" + " + fam if fam else ""), with_cooldown(pol, fam), per, budget, target,
                              oracle_tokens, cosine))
    # the tuned policy, leave-one-curve-out: fold k chose on the other curves
    # and is scored on curve k (stopwise tune's cv_folds)
    os.makedirs(a.out, exist_ok=True)
    pareto = os.path.join(a.out, "tokens-%s-pareto.csv" % a.task)
    args = [a.stopwise, "tune", "--budget", a.budget, "--epsilon", str(eps), "--no-store", "--json", "--pareto", pareto]
    if a.families:
        args += ["--families", a.families]
    for p in paths:
        args += ["--curves", p]
    tuned = run(args)
    per = []
    for k, fold in enumerate(tuned["cv_folds"]):
        assert fold["held_out"] == [k], fold
        r = replay(a.stopwise, fold["policy"], [paths[k]])[0]
        r["policy"] = fold["policy"]
        per.append(r)

    def fam_of_policy(k, r):
        m = re.search(r"cooldown=[^,]+", r["policy"])
        return m.group(0) if m else None
    with_test(per, fam_of_policy)
    with_test(oracle, lambda k, r: fam_of_policy(k, r) if fams else None)
    rows.append(summarise("tuned (LOO CV)", tuned["policy"], per, budget, target, oracle_tokens, cosine))
    rows.append(summarise("oracle", "oracle", oracle, budget, target, oracle_tokens, cosine))

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
    if fams:
        print("stops scored with a cooldown (tokens include it): baselines %s; tuned over %s" % (fam, ", ".join(fams)))
    if tuned.get("epsilon_below_se"):
        print("note: epsilon %g is below the evaluation's standard error %.3f EM points"
              % (eps, tuned["em_standard_error"]))
    if all(r["test_em_at_stop"] is None for r in rows):
        print("test EM at the stop: not available (the recorded curves hold validation EM only)")
    else:
        print("%-38s %9s %11s %11s %10s" % ("policy", "test EM", "vs cosine%", "mean test s", "worst"))
        for r in rows:
            f = lambda v, fmt: fmt % v if v is not None else "-"
            print("%-38s %9s %11s %11s %10s" % (r["name"], f(r["test_em_at_stop"], "%.3f"),
                                                 f(r.get("cosine_tokens_pct"), "%.1f%%"),
                                                 f(r.get("mean_test_shortfall"), "%.3f"),
                                                 f(r.get("worst_test_shortfall"), "%.3f")))
    svg_path = os.path.join(a.out, "tokens-%s.svg" % a.task)
    svg([r for r in rows], svg_path, "%s: tokens vs EM shortfall (%d seeds, T_max %s)" % (a.task, len(paths), a.budget))
    res = {"task": a.task, "budget": budget, "epsilon": eps, "target_em": target, "curves": paths,
           "best_em": bests, "rows": rows, "tuned": {k: tuned[k] for k in
                                                      ("policy", "cv_tokens_fraction", "cv_shortfall", "cv_worst_shortfall",
                                                       "families", "n_candidates", "replay_seconds", "cooldowns",
                                                       "confidence", "ucb_shortfall", "em_standard_error",
                                                       "epsilon_below_se") if k in tuned},
           "cooldown_families": fams, "baseline_cooldown": fam,
           "tuned_dominated_by_fixed_patience": dominated_by}
    with open(os.path.join(a.out, "tokens-%s.json" % a.task), "w") as f:
        json.dump(res, f, indent=1)
    print("wrote %s, %s, %s" % (os.path.join(a.out, "tokens-%s.json" % a.task), svg_path, pareto))


if __name__ == "__main__":
    main()
