"""A Python training loop's decisions are the C library's: Controller.report,
fed a curve one evaluation at a time, decides exactly as sw_replay does on
every prefix of the curve (continue until the same evaluation, then the same
rule and reason; the same best evaluation all along), and stops where
`stopwise replay --json` says. Bad input raises StopwiseError."""

import math
import os
import unittest

import support
import stopwise

# every rule and global, groups, both modes; extrapolate with at=, so that a
# prefix of a curve predicts at the same horizon as the whole curve
POLICIES = [
    "patience=5:min_delta=0.1,diverge",
    "patience=8,gain=0.5:window=5,diverge,warmup=20k",
    "gl=2,diverge",
    "pq=0.5:k=5,diverge",
    "up=2:k=5",
    "target=70,diverge:factor=3",
    "extrapolate=0.5:at=150k,diverge",
    "all(patience=5,gain=0.2),diverge,warmup=10k:ignore",
    "2of(patience=4,gl=1,up=1:k=4),diverge",
    "patience=5,monitor=val_loss",
    "patience=1000,budget=60k",
]


def report_args(row):
    """A curve row as Controller.report's arguments."""
    kw = {"tokens": row["tokens"], "step": row.get("step"), "wall": row.get("wall")}
    for name, value in row.items():
        if name in ("tokens", "step", "wall"):
            continue
        key = {"val_em": "em", "val_loss": "loss"}.get(name, name)
        kw[key] = value
    return kw


def same_float(a, b):
    return a == b or (a is not None and b is not None and math.isnan(a) and math.isnan(b))


class ControllerEqualsReplay(unittest.TestCase):
    def curves(self):
        out = [("synthetic-%d" % s, support.synthetic_rows(s)) for s in (1, 2)]
        out.append(("synthetic-diverging", support.synthetic_rows(3, diverge_at=70)))
        out += [(os.path.basename(os.path.dirname(p)), stopwise.Curve(p).rows()) for p in support.real_curves()]
        return out

    def test_decision_by_decision(self):
        checked = stops = 0
        rules = set()
        for name, rows in self.curves():
            end = rows[-1]["tokens"]
            for text in POLICIES:
                with self.subTest(curve=name, policy=text):
                    ctl = stopwise.Controller(text, budget=end)
                    for k, row in enumerate(rows):
                        d = ctl.report(**report_args(row))
                        r = stopwise.replay(text, rows[: k + 1])  # the C replay of the prefix
                        where = "%s, %s, evaluation %d" % (name, text, k)
                        self.assertEqual(d.index, k)
                        self.assertEqual(d.stop, r.stopped, where)
                        self.assertEqual(d.diverged, r.diverged, where)
                        if d.best is None:  # nothing finite yet (before warmup=N:ignore ends)
                            self.assertIsNone(r.best_value, where)
                        else:
                            self.assertEqual(d.best.index, r.best_index, where)
                            self.assertEqual(d.best.tokens, r.best_tokens, where)
                            self.assertTrue(same_float(d.best.value, r.best_value), where)
                        checked += 1
                        if d.stop:
                            self.assertEqual(r.stop_index, k, where)
                            self.assertEqual(d.rule, r.stop_rule, where)
                            self.assertEqual(d.reason, r.reason, where)
                            self.assertTrue(d.reason, where)
                            stops += 1
                            rules.add(d.rule)
                            break
                        self.assertIsNone(d.rule)
                        self.assertEqual(d.reason, "")
                    # the whole curve: Python's replay and the CLI's agree with the feed
                    whole = stopwise.replay(text, rows)
                    self.assertEqual(whole.stopped, d.stop)
                    self.assertEqual(whole.stop_index, d.index)
        # the comparison is not vacuous: many decisions, stops by many rules
        self.assertGreater(checked, 1000)
        self.assertGreater(stops, 30)
        self.assertTrue({"patience", "gain", "gl", "pq", "up", "target", "extrapolate", "diverge", "budget"} <= rules,
                        "rules that stopped something: %s" % sorted(rules))

    def test_the_cli_replay_stops_where_the_feed_does(self):
        d = support.tmpdir(self)
        for name, rows in self.curves():
            path = os.path.join(d, name + ".csv")
            stopwise.Curve(rows).write_csv(path)
            for text in POLICIES:
                with self.subTest(curve=name, policy=text):
                    ctl = stopwise.Controller(text, budget=rows[-1]["tokens"])
                    for row in rows:
                        dec = ctl.report(**report_args(row))
                        if dec.stop:
                            break
                    out = support.cli_json("replay", "--policy", text, "--curve", path)
                    self.assertEqual(out["stopped"], dec.stop)
                    self.assertEqual(out["stop_index"], dec.index)
                    self.assertEqual(out["stop_tokens"], dec.tokens)
                    self.assertEqual(out["best_index"], dec.best.index)
                    if dec.stop:
                        self.assertEqual(out["stop_rule"], dec.rule)
                        self.assertEqual(out["reason"], dec.reason)


class Decisions(unittest.TestCase):
    def test_best_prediction_and_is_best(self):
        ctl = stopwise.Controller("extrapolate=0.1:min_points=4,patience=3", budget=100_000)
        ems = [10, 20, 25, 27, 28, 28.5, 28.6]
        seen_prediction = False
        for i, em in enumerate(ems):
            d = ctl.report(tokens=(i + 1) * 1000, em=em)
            self.assertTrue(d.is_best)  # every value here is a new best
            self.assertEqual(d.best, stopwise.Best(i, (i + 1) * 1000, em))
            if d.prediction is not None:
                seen_prediction = True
                self.assertEqual(d.prediction.horizon, 100_000)
                self.assertGreaterEqual(d.prediction.mean, 28)  # a rising curve is predicted to rise
            if d.stop:
                break
        self.assertTrue(seen_prediction)
        self.assertEqual(ctl.prediction, d.prediction)
        self.assertEqual(ctl.best, d.best)

    def test_min_mode_best_value_is_the_loss_as_reported(self):
        ctl = stopwise.Controller("patience=2,monitor=val_loss")
        for i, loss in enumerate([3.0, 2.0, 2.5, 1.5, 1.6]):
            d = ctl.report(tokens=i + 1, loss=loss)
        self.assertEqual(d.best, stopwise.Best(3, 4, 1.5))
        self.assertFalse(d.is_best)

    def test_other_metrics_by_name(self):
        ctl = stopwise.Controller("target=0.9,monitor=dev_acc")
        self.assertFalse(ctl.report(tokens=10, dev_acc=0.5).stop)
        d = ctl.report(tokens=20, dev_acc=0.95)
        self.assertTrue(d.stop)
        self.assertEqual(d.rule, "target")

    def test_a_decision_has_no_truth_value(self):
        d = stopwise.Controller("patience=1").report(tokens=1, em=1)
        with self.assertRaises(TypeError):
            bool(d)


class BadInput(unittest.TestCase):
    def test_tokens_that_do_not_rise_raise(self):
        ctl = stopwise.Controller("patience=5")
        ctl.report(tokens=1000, em=10)
        for tokens in (1000, 999):
            with self.assertRaises(stopwise.StopwiseError) as cm:
                ctl.report(tokens=tokens, em=11)
            e = cm.exception
            self.assertEqual(e.status, "invalid")
            self.assertIn("tokens %d not above the previous evaluation's 1000" % tokens, str(e))
        self.assertEqual(ctl.count, 1)  # the failed reports changed nothing
        self.assertFalse(ctl.report(tokens=2000, em=11).stop)
        for tokens in (-1, 1 << 64):
            with self.assertRaises(ValueError):
                ctl.report(tokens=tokens, em=1)

    def test_a_missing_metric_raises(self):
        with self.assertRaises(stopwise.StopwiseError) as cm:
            stopwise.Controller("patience=5").report(tokens=1, loss=2.0)
        self.assertIn("no metric 'val_em'", str(cm.exception))
        with self.assertRaises(stopwise.StopwiseError) as cm:
            stopwise.Controller("gl=5").report(tokens=1, em=2.0)
        self.assertIn("no metric 'val_loss'", str(cm.exception))

    def test_reporting_after_stop_raises(self):
        ctl = stopwise.Controller("target=5")
        self.assertTrue(ctl.report(tokens=1, em=6).stop)
        self.assertTrue(ctl.stopped)
        with self.assertRaises(stopwise.StopwiseError) as cm:
            ctl.report(tokens=2, em=7)
        self.assertEqual(cm.exception.status, "state")

    def test_extrapolate_without_a_horizon_raises(self):
        with self.assertRaises(stopwise.StopwiseError) as cm:
            stopwise.Controller("extrapolate=0.5")
        self.assertEqual(cm.exception.status, "invalid")

    def test_a_token_count_must_be_an_integer(self):
        with self.assertRaises(TypeError):
            stopwise.Controller("patience=5").report(tokens=1.5, em=1)


if __name__ == "__main__":
    support.main()
