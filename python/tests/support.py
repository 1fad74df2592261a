"""What the binding's tests share: the paths ctest hands them (failing loudly
when one is missing, so a test never passes by not running), the CLI, and
learning curves to replay."""

import json
import math
import os
import random
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def env(name):
    """An environment variable ctest sets (tests/CMakeLists.txt); a missing one
    fails the test with what to do."""
    value = os.environ.get(name)
    if not value:
        raise AssertionError("%s is not set: run this test under ctest (ctest -R python_), which sets it" % name)
    return value


def source_dir():
    return env("STOPWISE_SOURCE_DIR")


def cli(*args, check=True):
    """Runs the stopwise CLI; returns the CompletedProcess (text)."""
    p = subprocess.run([env("STOPWISE_CLI")] + [str(a) for a in args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError("stopwise %s exited %d:\n%s%s" % (" ".join(map(str, args)), p.returncode, p.stdout,
                                                              p.stderr))
    return p


def cli_json(*args):
    return json.loads(cli(*args, "--json").stdout)


def tmpdir(test):
    """A scratch folder removed after the test."""
    d = tempfile.TemporaryDirectory(prefix="stopwise-py-")
    test.addCleanup(d.cleanup)
    return d.name


def real_curves():
    """Recorded curves of real runs in the repository (fashion-mnist MLP,
    tokens, step, train_loss, val_loss, val_em and more)."""
    root = os.path.join(source_dir(), "bench", "results", "curves")
    out = []
    for family in ("fashion-mnist-cosine", "fashion-mnist-wsd"):
        path = os.path.join(root, family, "seed-1.csv")
        if not os.path.isfile(path):
            raise AssertionError("missing recorded curve %s (committed in the repository)" % path)
        out.append(path)
    return out


def synthetic_rows(seed, n=120, diverge_at=None):
    """A noisy saturating curve (val_em up, losses down, a late overfit in
    val_loss), and optionally a NaN from evaluation diverge_at on."""
    rng = random.Random(seed)
    ceiling = 60 + 30 * rng.random()
    rate = 0.02 + 0.06 * rng.random()
    rows = []
    for i in range(n):
        t = (i + 1) * 1000
        em = ceiling * (1 - math.exp(-rate * (i + 1))) + rng.gauss(0, 0.8)
        train_loss = 2.5 * math.exp(-rate * (i + 1)) + 0.1 + abs(rng.gauss(0, 0.02))
        val_loss = 2.5 * math.exp(-rate * (i + 1)) + 0.3 + 0.004 * max(0, i - 60) + rng.gauss(0, 0.01)
        if diverge_at is not None and i >= diverge_at:
            train_loss = float("nan")
        rows.append({"tokens": t, "step": i + 1, "val_em": em, "val_loss": val_loss, "train_loss": train_loss})
    return rows


def main():
    """unittest's main, exiting non-zero on any failure or error."""
    unittest.main(verbosity=2)
