#!/usr/bin/env python3
"""Weight averaging at equal tokens: the table behind bench/average.sh.

    bench/average.py --task TASK [--curves bench/results/curves] [--out bench/results]

Reads CURVES/TASK-average-{none,ema,lawa}/seed-K.csv (curve.csv of runs that
differ only in --average) and, where present, CURVES/TASK-wsd/seed-K.csv (the
tokens benchmark's trunk with cooldown branches). For every seed recorded for
all three and every evaluation point past the first tenth of the budget (the
warm-up), it compares at equal tokens:
  select  the average's EM on the select sample minus the raw weights' (the
          ema/lawa run's val_em_ema/val_em_lawa minus its val_em_raw)
  test    the test EM of the weights the evaluation chose (raw or average)
          minus the raw weights' (the none run's test_em)
  chosen  the share of points where the average was chosen
  best    the test EM of the best checkpoint (the highest val_em) at the full
          budget, and its difference from none's
  anneal  at the trunk's fork points: the test EM of the anneal (cooldown
          c=0.1, 1-sqrt) minus the average's at the same tokens
Writes OUT/average-TASK.json and prints the table.
"""
import argparse
import csv
import glob
import json
import math
import os
import statistics


def read(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def num(row, key):
    v = row.get(key, "")
    try:
        x = float(v)
    except ValueError:
        return math.nan
    return x if x >= 0 else math.nan


def mean(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return statistics.mean(xs) if xs else math.nan


def best_test(rows):
    """The test EM at the highest val_em (the first, as the trainer keeps it)."""
    best = max(range(len(rows)), key=lambda i: (num(rows[i], "val_em"), -i))
    return num(rows[best], "test_em")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", required=True)
    ap.add_argument("--curves", default="bench/results/curves")
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--anneal", default="c=0.1:shape=sqrt")
    a = ap.parse_args()
    base = os.path.join(a.curves, a.task + "-average-")
    seeds = sorted(os.path.basename(p) for p in glob.glob(base + "none/seed-*.csv"))
    seeds = [s for s in seeds if all(os.path.exists(base + x + "/" + s) for x in ("ema", "lawa"))]
    if not seeds:
        raise SystemExit("average.py: no seed of %s has all of none, ema and lawa under %s" % (a.task, a.curves))
    out = {"task": a.task, "seeds": seeds, "anneal": a.anneal, "rows": []}
    print("%s, %d seeds, at every evaluation point past the first tenth of the budget" % (a.task, len(seeds)))
    print("%-5s %9s %9s %8s %10s %9s %12s" % ("avg", "d_select", "d_test", "chosen", "best_test", "d_best",
                                               "anneal-avg"))
    none = {s: read(base + "none/" + s) for s in seeds}
    none_best = mean(best_test(none[s]) for s in seeds)
    print("%-5s %9s %9s %8s %10.2f %9s %12s" % ("none", "-", "-", "-", none_best, "-", "-"))
    for avg in ("ema", "lawa"):
        d_sel, d_test, chosen, best, d_best, anneal = [], [], [], [], [], []
        for s in seeds:
            raw = {int(r["tokens"]): r for r in none[s]}
            rows = read(base + avg + "/" + s)
            budget = int(rows[-1]["tokens"])
            for r in rows:
                t = int(r["tokens"])
                if t < budget / 10 or t not in raw:
                    continue
                d_sel.append(num(r, "val_em_" + avg) - num(r, "val_em_raw"))
                d_test.append(num(r, "test_em") - num(raw[t], "test_em"))
                chosen.append(1.0 if num(r, "val_em_" + avg) > num(r, "val_em_raw") else 0.0)
            best.append(best_test(rows))
            d_best.append(best_test(rows) - best_test(none[s]))
            trunk = os.path.join(a.curves, a.task + "-wsd", s)
            if os.path.exists(trunk):
                at = {int(r["tokens"]): r for r in rows}
                for r in read(trunk):
                    x = num(r, "test_em_annealed:" + a.anneal)
                    t = int(r["tokens"])
                    if not math.isnan(x) and t in at and t >= budget / 10:
                        anneal.append(x - num(at[t], "test_em"))
        row = {"average": avg, "d_select": mean(d_sel), "d_test": mean(d_test), "chosen": mean(chosen),
               "best_test": mean(best), "d_best": mean(d_best), "anneal_minus_average": mean(anneal),
               "points": len(d_test), "forks": len(anneal)}
        out["rows"].append(row)
        print("%-5s %+9.2f %+9.2f %7.0f%% %10.2f %+9.2f %12s" % (
            avg, row["d_select"], row["d_test"], 100 * row["chosen"], row["best_test"], row["d_best"],
            "%+.2f (%d)" % (row["anneal_minus_average"], len(anneal)) if anneal else "-"))
    out["none_best_test"] = none_best
    with open(os.path.join(a.out, "average-%s.json" % a.task), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
