#!/usr/bin/env python3
"""The main job's last word: the tuned run against the full-budget runs.

    scripts/main-job-summary.py OUT   (OUT holds train.json and full-*.json, `train --json` outputs)

Prints the tokens the tuned run used (its cooldown included) against the budget,
and its test EM against the full-budget runs' test EM (mean, spread, each run).
"""
import glob
import json
import statistics
import sys


def main():
    out = sys.argv[1]
    run = json.load(open(out + "/train.json"))
    full = [json.load(open(p)) for p in sorted(glob.glob(out + "/full-*.json"))]
    budget = run["budget"]
    print("\n== what the tuned policy kept and saved")
    print("policy           %s" % run["policy"])
    print("stopped by       %s" % (run["stop_reason"] or run["status"]))
    print("tokens           %d of %d (%.1f%%, cooldown %d included): saved %.1f%%"
          % (run["tokens"], budget, 100.0 * run["tokens"] / budget, run["cooldown_tokens"],
             max(0.0, 100.0 - 100.0 * run["tokens"] / budget)))
    em = [f["test_em"] for f in full]
    mean = statistics.mean(em)
    sd = statistics.stdev(em) if len(em) > 1 else float("nan")
    se = run.get("test_se") or 0
    sampled = " (+- %.2f, sampled)" % se if run.get("final_sample") else ""
    print("test EM          %.2f%s; the full budget: %.2f +- %.2f (mean +- sd of %d runs: %s)"
          % (run["test_em"], sampled, mean, sd, len(em), ", ".join("%.2f" % x for x in em)))
    kept = run["test_em"] - mean
    print("EM kept          %+.2f points against the full-budget mean%s"
          % (kept, " (%+.1f sd)" % (kept / sd) if sd > 0 else ""))
    print("wall             %.0f s for the tuned run, %.0f s mean for a full-budget run"
          % (run["wall_s"], statistics.mean(f["wall_s"] for f in full)))


if __name__ == "__main__":
    main()
