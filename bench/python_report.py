#!/usr/bin/python3
"""What one Controller.report call costs a Python training loop.

Feeds runs of --evals evaluations (tokens, val_em, val_loss, train_loss: a
noisy saturating curve) to fresh controllers through stopwise.Controller.report,
and times the calls alone (not the controllers' creation). The reference,
alternated with it in every repetition: the C library deciding the same
evaluations by itself (stopwise.replay of the same curve: one sw_replay call,
the code path sw_controller_feed takes, divided by the evaluations), so the
difference is the binding's own cost. Median of --reps repetitions.

Prints the figures and writes bench/results/python_report.json; exits 1 when
the median report call costs --limit microseconds (20) or more, the promise
of docs/PYTHON.md ("a loop that evaluates every few seconds never notices it").

    /usr/bin/python3 bench/python_report.py [--reps 7] [--runs 100] [--evals 200]
    (the library: $STOPWISE_LIB, else the build tree; see docs/PYTHON.md)
"""

import argparse
import json
import math
import os
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import stopwise  # noqa: E402

POLICIES = [
    "patience=1000000:min_delta=0.1,gain=0:window=10,diverge,warmup=10k",  # never fires: every run is whole
    "gl=1000,up=1000:k=5,diverge",
]


def curve(seed, n):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        em = 90 * (1 - math.exp(-0.03 * (i + 1))) + rng.gauss(0, 0.5)
        loss = 2 * math.exp(-0.03 * (i + 1)) + 0.2 + rng.gauss(0, 0.01)
        rows.append({"tokens": (i + 1) * 1000, "em": em, "loss": loss, "train_loss": loss - 0.1})
    return rows


def time_report(policy, curves):
    """Seconds spent inside report calls, and the number of calls."""
    spent, calls = 0.0, 0
    for rows in curves:
        ctl = stopwise.Controller(policy)
        report = ctl.report
        t = time.perf_counter()
        for r in rows:
            report(r["tokens"], em=r["em"], loss=r["loss"], train_loss=r["train_loss"])
        spent += time.perf_counter() - t
        calls += len(rows)
    return spent, calls


def time_c(policy, prepared):
    """Seconds the C library takes to decide the same evaluations (replay)."""
    spent, calls = 0.0, 0
    for c in prepared:
        t = time.perf_counter()
        r = stopwise.replay(policy, c)
        spent += time.perf_counter() - t
        calls += len(c)
        assert not r.stopped  # the policies never fire: every evaluation is decided
    return spent, calls


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--runs", type=int, default=100, help="controllers per repetition")
    ap.add_argument("--evals", type=int, default=200, help="evaluations per run")
    ap.add_argument("--limit", type=float, default=20.0, help="microseconds a report call must stay under")
    ap.add_argument("--json", default=os.path.join(HERE, "results", "python_report.json"))
    args = ap.parse_args()
    path, version = stopwise.library()
    curves = [curve(s, args.evals) for s in range(args.runs)]
    policy_objs = [stopwise.Policy(p) for p in POLICIES]
    prepared = [stopwise.Curve([{"tokens": r["tokens"], "val_em": r["em"], "val_loss": r["loss"],
                                 "train_loss": r["train_loss"]} for r in rows]) for rows in curves]
    out = {"library": path, "version": version, "runs": args.runs, "evals": args.evals, "reps": args.reps,
           "policies": {}}
    worst = 0.0
    for policy in policy_objs:
        py, c = [], []
        for rep in range(args.reps):  # alternate, so drift in the machine's load hits both
            s, n = time_report(policy, curves)
            py.append(s / n * 1e6)
            s, n = time_c(policy, prepared)
            c.append(s / n * 1e6)
        med_py, med_c = statistics.median(py), statistics.median(c)
        worst = max(worst, med_py)
        out["policies"][str(policy)] = {"report_us": med_py, "c_us": med_c, "binding_us": med_py - med_c,
                                        "report_us_all": py, "c_us_all": c}
        print("report: %.2f us per call (median of %d x %d calls), of which the C controller %.2f us, the binding "
              "%.2f us; policy %s" % (med_py, args.reps, args.runs * args.evals, med_c, med_py - med_c, policy))
    ok = worst < args.limit
    out["limit_us"] = args.limit
    out["ok"] = ok
    print("limit %.0f us per call: %s (worst policy %.2f us)" % (args.limit, "ok" if ok else "EXCEEDED", worst))
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(out, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
