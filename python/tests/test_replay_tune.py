"""replay and tune from Python: a curve given as rows, columns, a CSV path or
a Curve replays the same; tune picks what `stopwise tune --curves` picks;
a policy tuned from Python for a task key is what tuned_policy and `stopwise
tune status` read back, and the conservative default comes without one."""

import os
import unittest

import support
import stopwise

POLICY = "patience=5:min_delta=0.1,gain=0.5:window=5,diverge,warmup=10k"


class Replay(unittest.TestCase):
    def test_every_form_of_a_curve_replays_the_same(self):
        rows = support.synthetic_rows(7)
        path = os.path.join(support.tmpdir(self), "c.csv")
        stopwise.Curve(rows).write_csv(path)
        columns = {k: [r[k] for r in rows] for k in rows[0]}
        short = [{"tokens": r["tokens"], "em": r["val_em"], "loss": r["val_loss"], "train_loss": r["train_loss"]}
                 for r in rows]
        results = [stopwise.replay(POLICY, c) for c in (rows, columns, path, stopwise.Curve(path), short)]
        self.assertTrue(results[0].stopped)
        self.assertLess(results[0].stop_index, len(rows) - 1)
        for r in results[1:]:
            self.assertEqual(r, results[0])
        r = results[0]
        self.assertEqual(r.saved_tokens, r.end_tokens - r.stop_tokens)
        self.assertAlmostEqual(r.shortfall, r.curve_best_em - r.score_em)
        self.assertEqual(r.end_tokens, rows[-1]["tokens"])

    def test_curve_contents(self):
        rows = [{"tokens": 10, "em": 1.0}, {"tokens": 20, "em": 2.0, "bleu": 0.5}, {"tokens": 30, "step": 3}]
        c = stopwise.Curve(rows)
        self.assertEqual(len(c), 3)
        self.assertEqual(c.tokens, [10, 20, 30])
        self.assertEqual(c.steps, [0, 0, 3])
        self.assertEqual(c.columns, ["val_em", "bleu"])
        self.assertEqual(c.column("em"), [1.0, 2.0, None])
        self.assertEqual(c.column("bleu"), [None, 0.5, None])
        with self.assertRaises(KeyError):
            c.column("nope")

    def test_bad_curves_raise(self):
        with self.assertRaises(stopwise.StopwiseError) as cm:
            stopwise.Curve([{"tokens": 20, "em": 1}, {"tokens": 10, "em": 2}])
        self.assertIn("curve row 2: tokens 10 not above the previous evaluation's 20", str(cm.exception))
        with self.assertRaises(stopwise.StopwiseError) as cm:
            stopwise.Curve([{"em": 1}])
        self.assertIn("row 1: no 'tokens'", str(cm.exception))
        with self.assertRaises(stopwise.StopwiseError) as cm:
            stopwise.Curve({"tokens": [1, 2], "val_em": [1]})
        self.assertIn("'val_em' 1 values, 'tokens' has 2", str(cm.exception))
        with self.assertRaises(stopwise.StopwiseError) as cm:
            stopwise.Curve([{"tokens": 1, "em": 1, "val_em": 2}])
        self.assertIn("both", str(cm.exception))
        with self.assertRaises(stopwise.StopwiseError) as cm:
            stopwise.Curve(os.path.join(support.tmpdir(self), "missing.csv"))
        self.assertEqual(cm.exception.status, "not_found")
        bad = os.path.join(support.source_dir(), "tests", "data", "curves", "bad_cell.csv")
        with self.assertRaises(stopwise.StopwiseError) as cm:
            stopwise.Curve(bad)
        self.assertIn("bad_cell.csv:", str(cm.exception))  # the C message names the file and line
        self.assertEqual(cm.exception.status, "format")


class Tune(unittest.TestCase):
    def curves(self):
        d = support.tmpdir(self)
        paths = []
        for seed in range(1, 7):
            path = os.path.join(d, "seed-%d.csv" % seed)
            stopwise.Curve(support.synthetic_rows(seed)).write_csv(path)
            paths.append(path)
        return d, paths

    def test_tune_picks_what_the_cli_picks(self):
        d, paths = self.curves()
        report = stopwise.tune(paths, epsilon=0.5, folds=3)
        args = ["tune", "--epsilon", "0.5", "--folds", "3", "--no-store", "--quiet"]
        for p in paths:
            args += ["--curves", p]
        cli = support.cli_json(*args)
        self.assertEqual(report.data["policy"], cli["policy"])
        self.assertEqual(report.policy, stopwise.Policy(cli["policy"]))
        for key in ("cv_tokens_fraction", "cv_shortfall", "tokens_fraction", "shortfall", "n_candidates", "folds"):
            self.assertEqual(report.data[key], cli[key], key)
        self.assertEqual(report.pareto, cli["pareto"])
        # the choice is a real one: it stops early and keeps its promise on average
        self.assertLess(report.cv_tokens_fraction, 0.95)
        self.assertLessEqual(report.data["shortfall"], 0.5)
        # curves in memory tune the same as their files
        again = stopwise.tune([stopwise.Curve(p).rows() for p in paths], epsilon=0.5, folds=3)
        self.assertEqual(again.data["policy"], report.data["policy"])
        self.assertEqual(again.cv_shortfall, report.cv_shortfall)

    def test_options_and_bad_options(self):
        _, paths = self.curves()
        r = stopwise.tune(paths, epsilon=1.0, families=["patience"], folds=2, confidence=0)
        self.assertIn(r.family, ("patience", "none"))
        self.assertEqual(list(r.data["families"]), ["patience"])
        with self.assertRaises(stopwise.StopwiseError):
            stopwise.tune(paths, families=["nope"])
        with self.assertRaises(stopwise.StopwiseError) as cm:
            stopwise.tune(paths, epsilon=-1)
        self.assertIn("epsilon", str(cm.exception))
        with self.assertRaises(stopwise.StopwiseError) as cm:
            stopwise.tune([[{"tokens": 1, "loss": 1.0}], [{"tokens": 1, "loss": 2.0}]])
        self.assertIn("val_em", str(cm.exception))


class TunedPolicy(unittest.TestCase):
    def test_default_without_a_store_then_the_tuned_one(self):
        d, paths = self.curves_dir()
        store = os.path.join(d, "store.db")
        t = stopwise.tuned_policy("synthetic:addition", budget=2_000_000, store=store)
        self.assertFalse(t.tuned)
        self.assertFalse(os.path.exists(store))  # reading created nothing
        self.assertEqual(str(t.policy), "patience=10,diverge,warmup=200k")
        self.assertEqual(t.task_key, "synthetic:addition|default|2M|wsd|every=20k")
        self.assertIn("conservative default", t.why)

        report = stopwise.tune(paths, epsilon=0.5, folds=3, task=t.task_key, store=store)
        got = stopwise.tuned_policy("synthetic:addition", budget=2_000_000, store=store)
        self.assertTrue(got.tuned)
        self.assertEqual(got.policy, report.policy)
        self.assertIn("tuned policy for task %s: %s" % (t.task_key, report.data["policy"]), got.why)
        # the same through the whole key, and through an open Store
        with stopwise.Store(store) as s:
            self.assertEqual(stopwise.tuned_policy(t.task_key, store=s).policy, report.policy)
        # and what the CLI reads for the task (train --stop auto reads the same)
        status = support.cli_json("tune", "status", "--task", t.task_key, "--store", store)
        self.assertEqual(status["tuned_policy"], report.data["policy"])

    def curves_dir(self):
        d = support.tmpdir(self)
        paths = []
        for seed in range(1, 5):
            path = os.path.join(d, "seed-%d.csv" % seed)
            stopwise.Curve(support.synthetic_rows(seed)).write_csv(path)
            paths.append(path)
        return d, paths

    def test_bad_arguments(self):
        with self.assertRaises(stopwise.StopwiseError) as cm:
            stopwise.tuned_policy("cmudict", store=os.path.join(support.tmpdir(self), "x.db"))
        self.assertIn("budget", str(cm.exception))
        with self.assertRaises(stopwise.StopwiseError):
            stopwise.tuned_policy("cmudict", budget=1000, schedule="bogus:x=1",
                                  store=os.path.join(support.tmpdir(self), "x.db"))


if __name__ == "__main__":
    support.main()
