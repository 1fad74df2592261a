#!/usr/bin/python3
"""stopwise search against Optuna, same space, same trainer, same total tokens.

For each repetition (seed 1..R) and method, a study spends about --total
training tokens on the task's space (bench/search/TASK.txt):

  stopwise-asha     stopwise search --sampler tpe --pruner asha
  stopwise-policy   stopwise search --sampler tpe --pruner policy[:$POLICY]
  optuna-median     Optuna's TPESampler + MedianPruner
  optuna-hyperband  Optuna's TPESampler + HyperbandPruner

Optuna's objective runs `stopwise train` with the options stopwise search
would pass for the same values (reals with 4 significant digits, the same
evaluation sample and final report, --threads), reads the run's curve.csv as
it grows, reports every evaluation's validation EM (step = tokens / cadence)
and kills the training when Optuna prunes it; a pruned trial is charged the
tokens of its last evaluation. Its objective value is the run's best
validation EM, the number stopwise's trials are ranked by.

Per study: the timeline of (tokens spent, best validation EM so far among
trials that trained to their end) as trials end. Across every study of the
task, B* = the best validation EM any found; per study, the tokens spent until
the best so far was within 0.5 EM of B* (None: never), and the final test EM
(the test EM of the study's best trial).

--scaling W1,W2,..: trials per hour of one study (random sampler, no pruner,
--trials N) run by W worker processes on one SQLite store, for each W.

Writes bench/results/search-TASK.json and prints a Markdown table.
"""

import argparse
import csv
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# ---- the space file (the grammar of docs/SEARCH.md) ---------------------------------


def split_items(text):
    items, cur, quoted, i = [], "", False, 0
    while i < len(text):
        c = text[i]
        if quoted and c == "\\" and i + 1 < len(text):
            cur += text[i + 1]
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif c == "," and not quoted:
            items.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1
    items.append(cur.strip())
    return [s[1:-1] if len(s) > 1 and s[0] == '"' else s for s in items]


def parse_space(path):
    """[(name, kind, spec)]: kind 'text' (spec the text) or a domain:
    ('choice', [items]), ('range'|'int', (lo, hi, log))."""
    entries = []
    for raw in open(path):
        line, quoted = "", False
        for c in raw.rstrip("\n"):
            if c == '"':
                quoted = not quoted
            if c == "#" and not quoted:
                break
            line += c
        line = line.strip()
        if not line:
            continue
        name, value = [s.strip() for s in line.split("=", 1)]
        m = re.match(r"^(choice|range|int)\s*\((.*)\)$", value)
        if not m:
            entries.append((name, "text", value[1:-1] if value.startswith('"') else value))
            continue
        args = split_items(m.group(2))
        if m.group(1) == "choice":
            entries.append((name, "choice", args))
        else:
            conv = float if m.group(1) == "range" else tokens_int
            entries.append((name, m.group(1), (conv(args[0]), conv(args[1]), len(args) > 2 and args[2] == "log")))
    return entries


def tokens_int(s):
    mult = {"k": 1000, "K": 1000, "M": 10**6, "G": 10**9}
    return int(float(s[:-1]) * mult[s[-1]]) if s[-1] in mult else int(s)


def variables(entries):
    used = set()
    for name, kind, spec in entries:
        if kind == "text":
            used |= set(re.findall(r"\{([A-Za-z_][A-Za-z0-9_-]*)\}", spec))
    return used


def fmt_real(x):
    """What stopwise trains with for a real: 4 significant digits."""
    return repr(float("%.4g" % x))


def train_options(entries, values):
    """The (option, value) pairs of one configuration, in file order."""
    used = variables(entries)
    text_of = {}
    for name, kind, spec in entries:
        if kind == "text":
            text_of[name] = spec
        else:
            text_of[name] = values[name]
    out = []
    for name, kind, spec in entries:
        if name in used:
            continue
        v = text_of[name]
        if kind == "text":
            v = re.sub(r"\{([A-Za-z_][A-Za-z0-9_-]*)\}", lambda m: str(text_of[m.group(1)]), spec)
        out.append((name, str(v)))
    return out


# ---- stopwise search ---------------------------------------------------------------


def run_stopwise(a, method, rep, workdir):
    policy = a.policy or a.stop
    pruner = {"stopwise-asha": "asha", "stopwise-hyperband": "hyperband",
              "stopwise-policy": "policy" + (":" + policy if policy else "")}[method]
    space = a.space
    if a.stop and method != "stopwise-policy":  # the policy pruner sets the trials' stop itself
        space = os.path.join(workdir, "space.txt")
        with open(space, "w") as f:
            f.write(open(a.space).read() + '\nstop = "%s"\n' % a.stop)
    db = os.path.join(workdir, "store.db")
    cmd = [a.stopwise, "search", "--space", space, "--study", "%s-%d" % (method, rep), "--store", db,
           "--budget", str(a.budget), "--total", str(a.total), "--trials", "0", "--seed", str(rep),
           "--sampler", "tpe", "--pruner", pruner, "--threads", str(a.threads), "--out",
           os.path.join(workdir, "runs"), "--json", "--quiet"]
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        sys.exit("search.py: %s failed (%d): %s" % (" ".join(cmd), p.returncode, p.stderr[-2000:]))
    report = json.loads(p.stdout)
    timeline, spent, best, best_test = [], 0, None, None
    for t in sorted(report["trials"], key=lambda t: t["ended"] or 0):
        spent += t["spent"]
        if t["state"] == "completed" and t["value"] is not None and (best is None or t["value"] > best):
            best, best_test = t["value"], t["test_em"]
        timeline.append({"tokens": spent, "best": best, "test_em": best_test, "state": t["state"]})
    return {"method": method, "rep": rep, "wall_s": time.time() - t0, "tokens": report["tokens"],
            "trials": len(report["trials"]), "timeline": timeline, "best_val": best, "final_test_em": best_test}


# ---- Optuna ------------------------------------------------------------------------


def run_optuna(a, method, rep, workdir):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    entries = parse_space(a.space)
    every = max(1, a.budget // 100)  # train's own cadence: budget / 100
    steps = math.ceil(a.budget / every)
    if method == "optuna-median":
        pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)
    else:
        rung = max(1, round(a.budget / 27 / every))  # stopwise's first rung: budget / eta^3
        pruner = optuna.pruners.HyperbandPruner(min_resource=rung, max_resource=steps, reduction_factor=3)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=rep), pruner=pruner)
    state = {"spent": 0, "timeline": [], "best": None, "best_test": None}

    def objective(trial):
        values = {}
        for name, kind, spec in entries:
            if kind == "choice":
                values[name] = trial.suggest_categorical(name, spec)
            elif kind == "range":
                values[name] = fmt_real(trial.suggest_float(name, spec[0], spec[1], log=spec[2]))
            elif kind == "int":
                values[name] = trial.suggest_int(name, int(spec[0]), int(spec[1]), log=spec[2])
        out = os.path.join(workdir, "runs", "trial-%d" % trial.number)
        shutil.rmtree(out, ignore_errors=True)
        argv = [a.stopwise, "train"]
        for name, v in train_options(entries, values):
            argv += ["--" + name, v]
        argv += ["--budget", str(a.budget), "--seed", str(rep), "--threads", str(a.threads), "--eval-every",
                 str(every), "--eval-limit", "1000", "--final-limit", "all", "--out", out, "--no-store", "--json",
                 "--quiet"] + (["--stop", a.stop] if a.stop else [])
        os.makedirs(out, exist_ok=True)
        log = open(out + ".log", "w")
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, text=True)
        seen, last_tokens, last_step = 0, 0, -1
        curve = os.path.join(out, "curve.csv")
        while True:
            done = p.poll() is not None
            if os.path.exists(curve):
                with open(curve) as f:
                    rows = list(csv.DictReader(f))
                for row in rows[seen:]:
                    last_tokens = int(row["tokens"])
                    step = round(last_tokens / every)
                    if step <= last_step or row["val_em"] in ("", "nan"):
                        continue
                    last_step = step
                    trial.report(float(row["val_em"]), step)
                    if not done and trial.should_prune():
                        p.kill()
                        p.wait()
                        log.close()
                        end(last_tokens, None, None, "pruned")
                        raise optuna.TrialPruned()
                seen = len(rows)
            if done:
                break
            time.sleep(0.05)
        log.close()
        if p.returncode:
            end(last_tokens, None, None, "failed")
            raise RuntimeError("train failed: see %s.log" % out)
        r = json.loads(p.stdout.read())
        end(r["tokens"], r["best_val_em"], r["test_em"], "completed")
        return r["best_val_em"]

    def end(tokens, value, test_em, how):
        state["spent"] += tokens
        if value is not None and (state["best"] is None or value > state["best"]):
            state["best"], state["best_test"] = value, test_em
        state["timeline"].append({"tokens": state["spent"], "best": state["best"], "test_em": state["best_test"],
                                  "state": how})

    def enough(study, trial):
        if state["spent"] >= a.total:
            study.stop()

    t0 = time.time()
    study.optimize(objective, callbacks=[enough], catch=(RuntimeError,))
    return {"method": method, "rep": rep, "wall_s": time.time() - t0, "tokens": state["spent"],
            "trials": len(study.trials), "timeline": state["timeline"], "best_val": state["best"],
            "final_test_em": state["best_test"]}


# ---- scaling -----------------------------------------------------------------------


def run_scaling(a, workers, workdir):
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    db = os.path.join(workdir, "store.db")
    cmd = [a.stopwise, "search", "--space", a.space, "--study", "scale", "--store", db, "--budget",
           str(a.budget), "--trials", str(a.scaling_trials), "--sampler", "random", "--pruner", "none",
           "--threads", "1", "--out", os.path.join(workdir, "runs"), "--worker", "--quiet"]
    t0 = time.time()
    procs = [subprocess.Popen(cmd) for _ in range(workers)]
    if any(p.wait() for p in procs):
        sys.exit("search.py: a scaling worker failed")
    wall = time.time() - t0
    return {"workers": workers, "trials": a.scaling_trials, "wall_s": wall,
            "trials_per_hour": a.scaling_trials / wall * 3600}


# ---- summary -----------------------------------------------------------------------


def tokens_to(timeline, target):
    for point in timeline:
        if point["best"] is not None and point["best"] >= target:
            return point["tokens"]
    return None


def summarise(runs, methods):
    top = max((r["best_val"] for r in runs if r["best_val"] is not None), default=None)
    rows = []
    for m in methods:
        mine = [r for r in runs if r["method"] == m]
        for r in mine:
            r["tokens_to_target"] = tokens_to(r["timeline"], top - 0.5) if top is not None else None
        reached = [r["tokens_to_target"] for r in mine if r["tokens_to_target"] is not None]
        tests = [r["final_test_em"] for r in mine if r["final_test_em"] is not None]
        rows.append({"method": m, "reps": len(mine), "reached": len(reached),
                     "median_tokens_to_target": statistics.median(reached) if reached else None,
                     "tokens_to_target": [r["tokens_to_target"] for r in mine],
                     "final_test_em_mean": statistics.mean(tests) if tests else None,
                     "final_test_em_sd": statistics.stdev(tests) if len(tests) > 1 else 0.0,
                     "trials_mean": statistics.mean(r["trials"] for r in mine) if mine else 0})
    return top, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("task", help="fashion-mnist, cmudict or tiny (bench/search/TASK.txt)")
    ap.add_argument("--stopwise", default=os.path.join(ROOT, "build", "stopwise"))
    ap.add_argument("--budget", type=int, help="tokens per trial")
    ap.add_argument("--total", type=int, help="tokens per study")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--methods", default="stopwise-asha,stopwise-policy,optuna-median,optuna-hyperband")
    ap.add_argument("--policy", default=os.environ.get("POLICY", ""), help="the policy pruner's policy (auto)")
    ap.add_argument("--stop", help="every trial's stopping policy (default: train's own, auto; tiny: none)")
    ap.add_argument("--scaling", default="", help="worker counts, e.g. 1,2,4")
    ap.add_argument("--scaling-trials", type=int, default=16)
    ap.add_argument("--out", help="result JSON (default bench/results/search-TASK.json)")
    a = ap.parse_args()
    defaults = {"fashion-mnist": (540000, 10800000), "cmudict": (2000000, 24000000), "tiny": (60000, 600000)}
    if a.task == "tiny" and a.stop is None:
        a.stop = "none"  # the tiny task learns late, after a plateau train's default would stop on
    if a.task not in defaults:
        sys.exit("search.py: unknown task %s (fashion-mnist, cmudict or tiny)" % a.task)
    a.budget = a.budget or defaults[a.task][0]
    a.total = a.total or defaults[a.task][1]
    a.space = os.path.join(HERE, "search", a.task + ".txt")
    work = os.path.join(ROOT, "bench", "results", "search", a.task)
    methods = [m for m in a.methods.split(",") if m]
    runs = []
    for rep in range(1, a.reps + 1):
        for m in methods:
            workdir = os.path.join(work, "%s-%d" % (m, rep))
            # a finished study is kept (study.json, written last), so an
            # interrupted benchmark goes on with the next one; any other
            # state in the folder is thrown away and the study starts again
            done = os.path.join(workdir, "study.json")
            key = {"method": m, "rep": rep, "budget": a.budget, "total": a.total, "threads": a.threads,
                   "stop": a.stop, "policy": a.policy}
            if os.path.exists(done):
                with open(done) as f:
                    kept = json.load(f)
                if kept.get("key") == key:
                    print("search.py: %s repetition %d: kept from %s" % (m, rep, done), file=sys.stderr)
                    runs.append(kept["run"])
                    continue
            shutil.rmtree(workdir, ignore_errors=True)
            os.makedirs(workdir)
            print("search.py: %s repetition %d" % (m, rep), file=sys.stderr)
            runs.append((run_optuna if m.startswith("optuna") else run_stopwise)(a, m, rep, workdir))
            with open(done + ".tmp", "w") as f:
                json.dump({"key": key, "run": runs[-1]}, f)
            os.replace(done + ".tmp", done)
    top, rows = summarise(runs, methods)
    scaling = [run_scaling(a, int(w), os.path.join(work, "scaling-%s" % w)) for w in a.scaling.split(",") if w]
    result = {"task": a.task, "budget": a.budget, "total": a.total, "reps": a.reps, "threads": a.threads,
              "best_val_em_overall": top, "summary": rows, "runs": runs, "scaling": scaling}
    out = a.out or os.path.join(ROOT, "bench", "results", "search-%s.json" % a.task)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    print("\n%s: budget %d tokens per trial, %d per study, %d repetitions; best val EM found %s\n" %
          (a.task, a.budget, a.total, a.reps, "%.2f" % top if top is not None else "-"))
    print("| method | trials | reached B*-0.5 | median tokens to B*-0.5 | final test EM |")
    print("|---|---|---|---|---|")
    for r in rows:
        med = "%.3gM" % (r["median_tokens_to_target"] / 1e6) if r["median_tokens_to_target"] else "-"
        em = "%.2f +- %.2f" % (r["final_test_em_mean"], r["final_test_em_sd"]) if r["final_test_em_mean"] is not None else "-"
        print("| %s | %.1f | %d/%d | %s | %s |" % (r["method"], r["trials_mean"], r["reached"], r["reps"], med, em))
    if scaling:
        print("\n| workers | trials | wall s | trials/hour |\n|---|---|---|---|")
        for s in scaling:
            print("| %d | %d | %.1f | %.0f |" % (s["workers"], s["trials"], s["wall_s"], s["trials_per_hour"]))
    print("\n%s" % out)


if __name__ == "__main__":
    main()
