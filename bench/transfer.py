#!/usr/bin/env python3
"""Warm against cold starts: the table behind bench/transfer.sh.

    bench/transfer.py --runs DIR --out PREFIX SCENARIO...

Reads DIR/SCENARIO/seed-K/{cold,warm}/curve.csv and {cold,warm}.json (the
runs bench/transfer.sh recorded; every run of a scenario evaluates the same
validation sample at the same cadence). Per seed:
  target    the cold run's final EM: the highest val_em on its curve (its best
            checkpoint, the model it ships)
  t_cold    the tokens at which the cold run first reached the target
  t_warm    the tokens at which the warm run first reached it (None: never,
            within the budget)
  fraction  t_warm / t_cold (None when the target is 0: nothing to reach)
  first     the warm run's val_em at its first evaluation (where it starts)
  test      both runs' test EM (best checkpoint, final report) at equal tokens:
            the same budget; delta = warm - cold
Per scenario: the mean and standard deviation over the seeds (the fraction
over the seeds where the warm run reached the target, with the count).
Writes PREFIX.json and PREFIX.md and prints the table.
"""
import argparse
import csv
import json
import math
import os
import statistics


def curve(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        try:
            out.append((int(float(r["tokens"])), float(r["val_em"])))
        except (KeyError, ValueError):
            continue
    return out


def first_reaching(points, target):
    for tokens, em in points:
        if em >= target - 1e-9:
            return tokens
    return None


def mean_sd(xs):
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    if not xs:
        return None, None
    return statistics.fmean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def fmt(m, sd, digits=2, pct=False):
    if m is None:
        return "n/a"
    if pct:
        return f"{100 * m:.0f}% ± {100 * sd:.0f}"
    return f"{m:.{digits}f} ± {sd:.{digits}f}"


def scenario_rows(root, scenario):
    rows = []
    base = os.path.join(root, scenario)
    if not os.path.isdir(base):
        return rows
    for seed_dir in sorted(os.listdir(base)):
        d = os.path.join(base, seed_dir)
        try:
            cold, warm = curve(f"{d}/cold/curve.csv"), curve(f"{d}/warm/curve.csv")
            with open(f"{d}/cold.json") as f:
                cj = json.load(f)
            with open(f"{d}/warm.json") as f:
                wj = json.load(f)
        except (OSError, ValueError):
            continue
        if not cold or not warm:
            continue
        target = max(em for _, em in cold)
        t_cold = first_reaching(cold, target)
        t_warm = first_reaching(warm, target)
        rows.append({
            "seed": seed_dir.replace("seed-", ""),
            "target_val_em": target,
            "tokens_cold": t_cold,
            "tokens_warm": t_warm,
            # a cold run that never left 0 EM sets no target worth reaching
            "fraction": t_warm / t_cold if target > 0 and t_warm is not None and t_cold else None,
            "warm_first_val_em": warm[0][1],
            "warm_first_tokens": warm[0][0],
            "test_em_cold": cj.get("test_em"),
            "test_em_warm": wj.get("test_em"),
            "budget": cj.get("budget"),
            "warm_start": wj.get("warm_start", ""),
        })
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("scenarios", nargs="+")
    a = ap.parse_args()
    report, lines = {}, []
    lines.append("| scenario | seeds | cold final val EM | warm tokens to it (of cold's) | reached | "
                 "warm val EM at first eval | test EM cold | test EM warm | warm - cold |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for sc in a.scenarios:
        rows = scenario_rows(a.runs, sc)
        report[sc] = {"seeds": rows}
        if not rows:
            lines.append(f"| {sc} | 0 | (no runs) | | | | | | |")
            continue
        fr = mean_sd([r["fraction"] for r in rows])
        tgt = mean_sd([r["target_val_em"] for r in rows])
        first = mean_sd([r["warm_first_val_em"] for r in rows])
        tc = mean_sd([r["test_em_cold"] for r in rows])
        tw = mean_sd([r["test_em_warm"] for r in rows])
        dd = mean_sd([r["test_em_warm"] - r["test_em_cold"] for r in rows
                      if r["test_em_warm"] is not None and r["test_em_cold"] is not None])
        reached = sum(r["fraction"] is not None for r in rows)
        if all(r["target_val_em"] <= 0 for r in rows):
            reached = "cold stayed at 0"
        report[sc]["summary"] = {"fraction_mean": fr[0], "fraction_sd": fr[1], "reached": reached,
                                 "n": len(rows), "test_em_cold": tc[0], "test_em_warm": tw[0],
                                 "test_em_delta": dd[0], "test_em_delta_sd": dd[1]}
        lines.append(f"| {sc} | {len(rows)} | {fmt(*tgt)} | {fmt(*fr, pct=True)} | "
                     f"{reached if isinstance(reached, str) else f'{reached}/{len(rows)}'} | "
                     f"{fmt(*first)} | {fmt(*tc)} | {fmt(*tw)} | {fmt(*dd)} |")
    lines.append("")
    lines.append("Tokens to the cold run's final (best-checkpoint) validation EM, on the same validation sample; "
                 "the warm run's source tokens are not counted (a retrain's previous run spent them). "
                 "Test EM: the best checkpoint of each run at the same budget.")
    text = "\n".join(lines)
    print(text)
    with open(a.out + ".md", "w") as f:
        f.write(text + "\n")
    with open(a.out + ".json", "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
