#!/usr/bin/python3
"""scikit-learn references for bench/features.sh, on stopwise's own split.

Reads a CSV (named feature columns, label `class` last) and the split
stopwise made of it (bench_split_dump: `SPLIT<TAB>line:N` lines), then trains
scikit-learn's MLPClassifier (256 ReLU units, Adam at 1e-3, as stopwise's
default mlp) on the training rows of
  full   every column
  mi     SelectKBest(mutual_info_classif, k=K)  (the same k-NN estimator, k=3)
  f      SelectKBest(f_classif, k=K)            (the ANOVA F statistic)
selection fitted on the training rows only, and prints one JSON line each:
test EM (accuracy in %), tokens (examples fed: n_iter_ x training rows, as
stopwise counts a tabular example), wall seconds and the columns kept.

usage: features_ref.py --data CSV --split FILE --seed N --keep K --name NAME
"""
import argparse
import csv
import json
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectKBest, f_classif, mutual_info_classif
from sklearn.neural_network import MLPClassifier


def load(path, split_path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    by_line = {i + 2: r for i, r in enumerate(body)}  # line 1 is the header
    parts = {"train": [], "val": [], "test": []}
    with open(split_path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            split, ident = line.rstrip("\n").split("\t")
            parts[split].append(by_line[int(ident.split(":")[1])])
    out = {}
    for k, rs in parts.items():
        x = np.array([[float(v) for v in r[:-1]] for r in rs])
        y = np.array([r[-1] for r in rs])
        out[k] = (x, y)
    return header[:-1], out


def mlp(seed, xtr, ytr, xte, yte):
    t = time.time()
    m = MLPClassifier(hidden_layer_sizes=(256,), learning_rate_init=1e-3, max_iter=500, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m.fit(xtr, ytr)
    return 100.0 * float((m.predict(xte) == yte).mean()), int(m.n_iter_) * len(ytr), time.time() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--keep", type=int, required=True)
    ap.add_argument("--name", required=True)
    a = ap.parse_args()
    names, s = load(a.data, a.split)
    (xtr, ytr), (xte, yte) = s["train"], s["test"]
    em, tok, wall = mlp(a.seed, xtr, ytr, xte, yte)
    print(json.dumps({"dataset": a.name, "seed": a.seed, "method": "sklearn-full", "k": len(names), "test_em": em,
                      "tokens": tok, "wall_s": wall, "selected": names}))
    for label, score in (("sklearn-mi", lambda x, y: mutual_info_classif(x, y, n_neighbors=3, random_state=a.seed)),
                         ("sklearn-f", f_classif)):
        t = time.time()
        sel = SelectKBest(score, k=min(a.keep, len(names))).fit(xtr, ytr)
        pick = sel.get_support(indices=True)
        order = sorted(pick, key=lambda j: -sel.scores_[j])
        select_s = time.time() - t
        em, tok, wall = mlp(a.seed, xtr[:, pick], ytr, xte[:, pick], yte)
        print(json.dumps({"dataset": a.name, "seed": a.seed, "method": label, "k": len(pick), "test_em": em,
                          "tokens": tok, "wall_s": wall, "select_s": select_s,
                          "selected": [names[j] for j in order]}))


if __name__ == "__main__":
    main()
