#!/usr/bin/python3
"""EM gain against inference cost for ensembles and beam search (issue 11;
docs/ENSEMBLES.md). Driven by bench/ensemble.sh, which says where the
members come from.

    bench/ensemble.py --task TASK --members CKPT... [--snapshots DIR]
                      [--order-by-val-em] [--snapshots-of-first] [--limit N] [--reps R] [--out PREFIX]
                      [--stopwise PATH]

--order-by-val-em sorts the members by the validation EM their checkpoints
record (highest first; never by test EM), so "ensemble N" is the N best.

Rows, each one `stopwise eval --json` on the test split (the same seeded
sample of --limit examples for every row, so rows compare example by
example):
  greedy                one member (the first), beam 1: the reference
  beam K                the first member, beam K = 2, 4, 8 (sequence tasks),
                        alpha 0.6; beam 4 also with alpha 0 and 1
  ensemble N            the first N members, N = 1, 2, 3, 5 (as many as given)
  ensemble 3 + beam 4   sequence tasks
  snapshots             the checkpoints of one run folder (--snapshots DIR)
Columns: test EM (and the published-form EM for cmudict), Delta EM against
greedy, and the inference cost as the CPU seconds spent answering over
greedy's (CPU, not wall: the machine is shared, and a niced evaluation waits
for the cores far longer than it computes), median over
--reps rounds; each round runs every row once, greedy first, so every ratio
is against a reference measured minutes apart at most on a shared machine.
Evaluations run with OMP_NUM_THREADS=1 (a ratio of single-core costs).

Writes PREFIX.json and PREFIX.md (default bench/results/ensemble-TASK).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


def val_em_of(path):
    """The validation EM a checkpoint's metadata records (safetensors header)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        meta = json.loads(f.read(n)).get("__metadata__", {})
    try:
        return float(meta.get("val_em", "nan"))
    except ValueError:
        return float("nan")


def run_eval(stopwise, task, paths, limit, beam=1, alpha=0.6, snapshots=None):
    cmd = [stopwise, "eval", "--data", task, "--json", "--beam", str(beam), "--alpha", str(alpha)]
    # --limit 0 would take the plain path for one greedy member: keep every row on one path
    cmd += ["--limit", str(limit if limit > 0 else 10**9)]
    if paths:
        cmd += ["--model"] + list(paths)
    if snapshots:
        cmd += ["--snapshots", snapshots]
    env = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="passive")
    p = subprocess.run(["nice", "-n", "15"] + cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(f"ensemble.py: {' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def rows_of(task, members, snapshots, sequence):
    first = members[:1]
    rows = [("greedy", "1 model, beam 1", dict(paths=first))]
    if sequence:
        for k in (2, 4, 8):
            rows.append(("beam", f"{k}", dict(paths=first, beam=k)))
        rows.append(("beam", "4, alpha 0", dict(paths=first, beam=4, alpha=0.0)))
        rows.append(("beam", "4, alpha 1", dict(paths=first, beam=4, alpha=1.0)))
    for n in (2, 3, 5):
        if n <= len(members):
            rows.append(("ensemble", f"{n} models", dict(paths=members[:n])))
    if sequence and len(members) >= 3:
        rows.append(("ensemble + beam", "3 models, beam 4", dict(paths=members[:3], beam=4)))
    if snapshots:
        rows.append(("snapshots", os.path.basename(os.path.normpath(snapshots)), dict(paths=[], snapshots=snapshots)))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", required=True)
    ap.add_argument("--members", nargs="+", required=True)
    ap.add_argument("--snapshots")
    ap.add_argument("--order-by-val-em", action="store_true")
    ap.add_argument("--snapshots-of-first", action="store_true",
                    help="the snapshot row uses the first member's run folder (after ordering)")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out")
    ap.add_argument("--stopwise", default="build/stopwise")
    a = ap.parse_args()
    if a.order_by_val_em:
        a.members.sort(key=lambda p: -val_em_of(p) if val_em_of(p) == val_em_of(p) else float("inf"))
    if a.snapshots_of_first:
        a.snapshots = os.path.dirname(a.members[0])
    out = a.out or os.path.join("bench", "results", f"ensemble-{a.task}")
    sequence = not a.task.startswith("fashion-mnist") and not a.task.startswith("csv:")
    rows = rows_of(a.task, a.members, a.snapshots, sequence)
    results = {i: [] for i in range(len(rows))}
    for rep in range(a.reps):
        for i, (lever, setting, kw) in enumerate(rows):
            r = run_eval(a.stopwise, a.task, kw.get("paths"), a.limit, kw.get("beam", 1), kw.get("alpha", 0.6),
                         kw.get("snapshots"))
            results[i].append(r)
            print(f"ensemble: {a.task} round {rep + 1}/{a.reps} {lever} {setting}: EM {r['em']:.2f}, "
                  f"{r['decode_cpu_s']:.2f} s of CPU", file=sys.stderr)
    table = []
    ref = results[0]
    for i, (lever, setting, kw) in enumerate(rows):
        rs = results[i]
        ems = {r["em"] for r in rs}
        if len(ems) != 1:
            raise SystemExit(f"ensemble.py: {lever} {setting} gave different EMs across rounds: {sorted(ems)}")
        ratio = statistics.median(r["decode_cpu_s"] / ref[k]["decode_cpu_s"] for k, r in enumerate(rs))
        row = {"lever": lever, "setting": setting, "members": rs[0]["members"], "beam": rs[0]["beam"],
               "alpha": rs[0]["alpha"], "n": rs[0]["n"], "em": rs[0]["em"], "em_delta": rs[0]["em"] - ref[0]["em"],
               "decode_s": statistics.median(r["decode_s"] for r in rs),
               "decode_cpu_s": statistics.median(r["decode_cpu_s"] for r in rs), "cost_ratio": ratio,
               "paths": kw.get("paths") or [kw.get("snapshots")]}
        if "em_published" in rs[0]:
            row["em_published"] = rs[0]["em_published"]
            row["em_published_delta"] = rs[0]["em_published"] - ref[0]["em_published"]
        table.append(row)
    doc = {"task": a.task, "limit": a.limit, "reps": a.reps, "members": a.members, "snapshots": a.snapshots,
           "threads": 1, "rows": table}
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out + ".json.tmp", "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(out + ".json.tmp", out + ".json")
    pub = any("em_published" in r for r in table)
    lines = [f"{a.task}: test EM on {table[0]['n']} examples, decode CPU time against greedy "
             f"(median of {a.reps}, 1 thread)", "",
             "| lever | setting | models | test EM | Δ EM |" + (" EM published | Δ |" if pub else "") +
             " decode CPU s | cost × |",
             "|---|---|---|---|---|" + ("---|---|" if pub else "") + "---|---|"]
    for r in table:
        cells = [r["lever"], r["setting"], str(r["members"]), f"{r['em']:.2f}", f"{r['em_delta']:+.2f}"]
        if pub:
            cells += [f"{r['em_published']:.2f}", f"{r['em_published_delta']:+.2f}"]
        cells += [f"{r['decode_cpu_s']:.2f}", f"{r['cost_ratio']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    with open(out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
