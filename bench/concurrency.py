#!/usr/bin/python3
"""Concurrent default trainings against the same trainings one after another.

Run by bench/concurrency.sh (which builds the CLI first). Two parts:

1. Load: for N in --ns (1, 2, 4), N `stopwise train` processes with the default
   thread settings (nothing passed, OMP_WAIT_POLICY and GOMP_SPINCOUNT unset, so
   the CLI picks its own) started at once; the batch's wall time against the sum
   of the same N trainings run one after another (measured in the same run,
   sequential first, then concurrent). Target: ratio <= 1.3.
2. Single run: training tokens/s of one run alone, the new default against the
   old behaviour (libgomp's own spinning default: OMP_WAIT_POLICY unset, the
   CLI told not to choose), alternating old/new, median of --reps (>= 5).
   Target: new within 5% of old.

--variants adds other settings to both parts (NAME:VAR=VALUE,VAR=VALUE; a
value of - unsets; ARGS=... adds train options), e.g.
  --variants 'spin10k:STOPWISE_WAIT_POLICY_SET=1,GOMP_SPINCOUNT=10000' 't1:ARGS=--threads 1'
--old-load also runs part 1 with the old behaviour (slow under load: it is
bounded by --timeout, and a batch that times out is reported as such).

Prints a table, writes --json (default bench/results/concurrency.json).
"""
import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MARK = "STOPWISE_WAIT_POLICY_SET"  # src/cli/wait_policy.h
# The variables that decide how libgomp's threads wait and how many there are:
# all unset for the defaults, whatever the calling shell exported.
CLEARED = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS", "OMP_DYNAMIC", MARK)


def variant_env(spec):
    """'NAME:VAR=V,VAR=-' -> (name, env, extra train args)."""
    name, _, rest = spec.partition(":")
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    args = []
    for item in filter(None, rest.split(",")):
        k, _, v = item.partition("=")
        if k == "ARGS":
            args += shlex.split(v)
        elif v == "-":
            env.pop(k, None)
        else:
            env[k] = v
    return name, env, args


def train_cmd(cli, data, budget, out, extra):
    # the same work in every process and every batch: the whole budget (a stop
    # would end runs at points that depend on timing) at a fixed cadence (the
    # automatic one follows measured times); threads and waiting are the defaults
    return [cli, "train", "--data", data, "--budget", budget, "--stop", "none", "--eval-every", "5k",
            "--no-store", "--quiet", "--json", "--out", out] + extra


def start(cli, a, env, extra, tmp, tag):
    out = tempfile.mkdtemp(prefix=tag + "-", dir=tmp)
    return subprocess.Popen(train_cmd(cli, a.data, a.budget, out, extra), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(p, timeout):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return None
    if p.returncode != 0:
        sys.exit(f"concurrency: a training failed (exit {p.returncode}): {err.strip()}")
    return json.loads(out)


def batch(cli, a, env, extra, tmp, n, concurrent):
    """Wall seconds of n trainings, concurrent or one after another; None on timeout."""
    t0 = time.monotonic()
    if concurrent:
        ps = [start(cli, a, env, extra, tmp, f"c{n}") for _ in range(n)]
        deadline = t0 + a.timeout
        res = [finish(p, max(1.0, deadline - time.monotonic())) for p in ps]
        if any(r is None for r in res):
            return None
    else:
        for _ in range(n):
            if finish(start(cli, a, env, extra, tmp, f"s{n}"), a.timeout) is None:
                return None
    return time.monotonic() - t0


def single(cli, a, env, extra, tmp):
    r = finish(start(cli, a, env, extra, tmp, "one"), a.timeout)
    if r is None:
        return None
    train_s = r["wall_s"] - r["eval_s"] - r["store_s"]
    return {"tokens": r["tokens"], "wall_s": r["wall_s"], "train_tok_s": r["tokens"] / train_s,
            "run_tok_s": r["tokens"] / r["wall_s"]}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--data", default="synthetic:reversal")
    ap.add_argument("--budget", default="60k", help="tokens per training (about 10-20 s alone)")
    ap.add_argument("--ns", default="1,2,4")
    ap.add_argument("--reps", type=int, default=5, help="single-run repetitions (>= 5)")
    ap.add_argument("--load-reps", type=int, default=1, help="repetitions of each load batch")
    ap.add_argument("--timeout", type=float, default=900, help="seconds a batch may take")
    ap.add_argument("--variants", nargs="*", default=[])
    ap.add_argument("--old-load", action="store_true", help="also put the old behaviour under load")
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument("--skip-single", action="store_true")
    ap.add_argument("--json", default="bench/results/concurrency.json")
    a = ap.parse_args()
    if a.reps < 5 and not a.skip_single:
        sys.exit("concurrency: --reps must be >= 5 (BENCH.md)")
    cli = os.path.join(a.build, "stopwise")
    ns = [int(x) for x in a.ns.split(",")]
    new = variant_env("new:")
    old = variant_env(f"old:{MARK}=1")
    others = [variant_env(v) for v in a.variants]
    load_set = [new] + ([old] if a.old_load else []) + others
    single_set = [old, new] + others
    result = {"data": a.data, "budget": a.budget, "cpus": os.cpu_count(), "loadavg_start": os.getloadavg(),
              "variants": {n: {k: env.get(k) for k in CLEARED} | {"args": x} for n, env, x in load_set + [old]},
              "load": {}, "single": {}}
    tmp = tempfile.mkdtemp(prefix="sw-concurrency-")

    if not a.skip_load:
        for name, env, extra in load_set:
            rows = {}
            for n in ns:
                seq, conc = [], []
                for _ in range(a.load_reps):
                    seq.append(batch(cli, a, env, extra, tmp, n, False))
                    conc.append(batch(cli, a, env, extra, tmp, n, True))
                s, c = med(seq), med(conc)
                rows[n] = {"sequential_s": seq, "concurrent_s": conc, "ratio": c / s if s and c else None}
                print(f"  load {name:8} N={n}: sequential {s and round(s, 1)} s, concurrent "
                      f"{c and round(c, 1)} s" + (f", ratio {c / s:.2f}" if s and c else " (timed out)"),
                      file=sys.stderr, flush=True)
            result["load"][name] = rows

    if not a.skip_single:
        runs = {name: [] for name, _, _ in single_set}
        for rep in range(a.reps):
            order = single_set if rep % 2 == 0 else single_set[::-1]
            for name, env, extra in order:
                runs[name].append(single(cli, a, env, extra, tmp))
                r = runs[name][-1]
                print(f"  single {name:8} rep {rep + 1}: " +
                      (f"{r['train_tok_s']:.0f} train tok/s, wall {r['wall_s']:.1f} s" if r else "timed out"),
                      file=sys.stderr, flush=True)
        base = med(r["train_tok_s"] for r in runs["old"] if r)
        for name, rs in runs.items():
            m = med(r["train_tok_s"] for r in rs if r)
            w = med(r["wall_s"] for r in rs if r)
            result["single"][name] = {"runs": rs, "median_train_tok_s": m, "median_wall_s": w,
                                      "vs_old": m / base if m and base else None}
    result["loadavg_end"] = os.getloadavg()
    shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nstopwise train --data {a.data} --budget {a.budget}, {os.cpu_count()} CPUs, "
          f"load average {result['loadavg_start'][0]:.1f} -> {result['loadavg_end'][0]:.1f}")
    if result["load"]:
        print("\n| settings | N | sequential sum (s) | concurrent (s) | ratio (target <= 1.3) |")
        print("|---|---|---|---|---|")
        for name, rows in result["load"].items():
            for n, r in rows.items():
                s, c = med(r["sequential_s"]), med(r["concurrent_s"])
                print(f"| {name} | {n} | {s:.1f} | " + (f"{c:.1f} | {r['ratio']:.2f} |" if c and s else
                                                      f"> {a.timeout:.0f} (timed out) | - |"))
    if result["single"]:
        print(f"\n| settings | training tokens/s (median of {a.reps}) | x old | wall (s) |")
        print("|---|---|---|---|")
        for name, r in result["single"].items():
            if r["median_train_tok_s"]:
                print(f"| {name} | {r['median_train_tok_s']:.0f} | {r['vs_old']:.3f} | {r['median_wall_s']:.1f} |")
    os.makedirs(os.path.dirname(a.json) or ".", exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(result, f, indent=1)
    print(f"\nwritten: {a.json}")


if __name__ == "__main__":
    main()
