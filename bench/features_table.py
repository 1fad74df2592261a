#!/usr/bin/python3
"""The selection table of bench/features.sh (docs/FEATURES.md): what each
method kept, and the scikit-learn references.

  features_table.py selection --set S --seed N --method M --json SEL.json [--select-s SEC]
      one JSON line from `select-features --json`: the columns kept
  features_table.py table ROWS.jsonl --results DIR
      per data set and method, mean +- sd over seeds: columns kept, how many
      of them are informative or redundant (make_classification's inf_* and
      red_*), test EM (stopwise: the recorded run on that selection,
      DIR/curves/levers-SET/features-METHOD_auto/seed-N.json; scikit-learn:
      its MLPClassifier on the same split), tokens trained, wall seconds.
      The levers-form table (tokens to the default's EM, EM at equal tokens)
      is bench/levers.py's, beside it.
"""
import argparse
import json
import os
import statistics


def mean_sd(xs, d=2):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "n/a"
    if len(xs) == 1:
        return f"{xs[0]:.{d}f}"
    return f"{statistics.mean(xs):.{d}f} ± {statistics.stdev(xs):.{d}f}"


def informative(names):
    return sum(n.startswith(("inf_", "red_")) for n in names)


def table(a):
    rows = [json.loads(line) for line in open(a.rows) if line.strip()]
    out = {}
    for ds in sorted({r["dataset"] for r in rows}):
        print(f"\n### {ds}\n")
        print("| setting | columns kept | informative kept | test EM | tokens trained | wall s |")
        print("|---|---|---|---|---|---|")
        methods = []
        for r in rows:
            if r["dataset"] == ds and r["method"] not in methods:
                methods.append(r["method"])
        for m in methods:
            rs = [r for r in rows if r["dataset"] == ds and r["method"] == m]
            ems, toks, walls = [], [], []
            for r in rs:
                if m.startswith("sklearn"):
                    ems.append(r["test_em"])
                    toks.append(r["tokens"])
                    walls.append(r["wall_s"])
                    continue
                slug = "default-recipe" if m == "stopwise-full" else f"features-{m.split('-', 1)[1]}_auto"
                path = os.path.join(a.results, "curves", f"levers-{ds}", slug, f"seed-{r['seed']}.json")
                if os.path.exists(path):
                    res = json.load(open(path))
                    ems.append(res["test_em"])
                    toks.append(res["tokens"])
                    walls.append(res["wall_s"] + r.get("select_s", 0))
            inf = mean_sd([informative(r["selected"]) for r in rs], 1) if ds == "classification" else "n/a"
            print(f"| {m} | {mean_sd([r['k'] for r in rs], 1)} | {inf} | {mean_sd(ems)} | {mean_sd(toks, 0)} "
                  f"| {mean_sd(walls)} |")
            out.setdefault(ds, {})[m] = {"seeds": [r["seed"] for r in rs], "k": [r["k"] for r in rs],
                                         "selected": [r["selected"] for r in rs], "test_em": ems, "tokens": toks}
    if a.json:
        json.dump(out, open(a.json, "w"), indent=1)


def selection(a):
    sel = json.load(open(a.json))
    print(json.dumps({"dataset": a.set, "seed": a.seed, "method": "stopwise-" + a.method, "k": sel["keep"],
                      "selected": sel["selected"], "rule": sel["rule"], "select_s": a.select_s or 0}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("selection")
    s.add_argument("--set", required=True)
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--method", required=True)
    s.add_argument("--json", required=True)
    s.add_argument("--select-s", type=float)
    t = sub.add_parser("table")
    t.add_argument("rows")
    t.add_argument("--results", required=True)
    t.add_argument("--json")
    a = ap.parse_args()
    selection(a) if a.cmd == "selection" else table(a)


if __name__ == "__main__":
    main()
