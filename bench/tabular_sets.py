#!/usr/bin/python3
"""The tabular test beds of feature selection (docs/FEATURES.md), exported to
CSV from Debian's python3-sklearn: nothing is downloaded (load_wine ships
inside scikit-learn; make_classification is generated).

  wine.csv            scikit-learn's load_wine: 178 wines, 13 chemical
                      measurements, 3 cultivars. Standardised (each column to
                      mean 0, sd 1 over all rows) because stopwise's mlp reads
                      CSV values as written and proline runs to 1680 while hue
                      stays below 2; the sklearn reference reads the same file.
  classification.csv  make_classification: N rows, 8 informative, 2 redundant
                      (linear combinations of the informative) and 20 noise
                      columns, 3 classes, 2 clusters a class. The columns are
                      shuffled (seeded) and named by their role, inf_*, red_*,
                      noise_*, so a test can tell whether a selection found
                      the informative ones; nothing reads the names to rank.
The label is the last column, `class`.

usage: tabular_sets.py OUT_DIR [--seed N] [--rows N]
"""
import argparse
import csv
import os

import numpy as np
from sklearn.datasets import load_wine, make_classification


def write(path, names, x, y):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(list(names) + ["class"])
        for row, label in zip(x, y):
            w.writerow([repr(float(v)) for v in row] + [int(label)])
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rows", type=int, default=2000)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    wine = load_wine()
    x = wine.data
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    write(os.path.join(a.out, "wine.csv"), [n.replace(",", " ") for n in wine.feature_names], x, wine.target)

    n_inf, n_red, n_noise = 8, 2, 20
    x, y = make_classification(n_samples=a.rows, n_features=n_inf + n_red + n_noise, n_informative=n_inf,
                               n_redundant=n_red, n_repeated=0, n_classes=3, n_clusters_per_class=2,
                               flip_y=0.01, class_sep=1.0, shuffle=False, random_state=a.seed)
    # shuffle=False puts the informative columns first, then the redundant, then noise
    names = [f"inf_{i}" for i in range(n_inf)] + [f"red_{i}" for i in range(n_red)] + \
            [f"noise_{i}" for i in range(n_noise)]
    perm = np.random.RandomState(a.seed + 1000).permutation(len(names))
    write(os.path.join(a.out, "classification.csv"), [names[j] for j in perm], x[:, perm], y)


if __name__ == "__main__":
    main()
