"""Controller state round-trips through Python: a controller restored from
state() midway decides exactly as the one never saved (both fed every later
evaluation), and both end in byte-identical states; pickling does the same;
a damaged state raises."""

import pickle
import unittest

import support
import stopwise

POLICIES = [
    "patience=10:min_delta=0.1,gain=0.5:window=10,diverge,warmup=20k",
    "extrapolate=0.5:at=150k,diverge",
    "2of(patience=4,gl=1,up=1:k=4),diverge,warmup=10k:ignore",
    "pq=0.5:k=5,monitor=val_loss",
]


def feed(ctl, row):
    return ctl.report(tokens=row["tokens"], em=row["val_em"], loss=row["val_loss"], train_loss=row["train_loss"],
                      step=row["step"])


class StateRoundTrip(unittest.TestCase):
    def check(self, text, rows, cut, restore):
        original = stopwise.Controller(text, budget=rows[-1]["tokens"])
        for row in rows[:cut]:
            self.assertFalse(feed(original, row).stop, "stopped before the cut at %d" % cut)
        blob = original.state()
        self.assertIsInstance(blob, bytes)
        resumed = restore(blob)
        self.assertEqual(str(resumed.policy), str(original.policy))
        self.assertEqual(resumed.count, cut)
        self.assertEqual(resumed.best, original.best)
        self.assertEqual(resumed.state(), blob)  # restore then save gives the same bytes
        decisions = 0
        for row in rows[cut:]:
            a, b = feed(original, row), feed(resumed, row)
            decisions += 1
            self.assertEqual((a.stop, a.rule, a.reason, a.diverged, a.index, a.best, a.prediction),
                             (b.stop, b.rule, b.reason, b.diverged, b.index, b.best, b.prediction))
            if a.stop:
                break
        self.assertEqual(original.state(), resumed.state())
        return decisions, a.stop

    def test_restored_controllers_decide_as_the_original(self):
        stopped = 0
        for seed in (1, 2, 3):
            rows = support.synthetic_rows(seed, diverge_at=100 if seed == 3 else None)
            for text in POLICIES:
                with self.subTest(seed=seed, policy=text):
                    decisions, stop = self.check(text, rows, 12, stopwise.Controller.restore)
                    self.assertGreater(decisions, 0)
                    stopped += stop
        self.assertGreater(stopped, 6)  # most runs stop after the resume: the rules' state came through

    def test_pickle_and_str_blobs(self):
        rows = support.synthetic_rows(4)
        text = POLICIES[0]
        self.check(text, rows, 15, lambda blob: stopwise.Controller.restore(blob.decode()))
        self.check(text, rows, 15, lambda blob: pickle.loads(pickle.dumps(stopwise.Controller.restore(blob))))

    def test_a_damaged_state_raises(self):
        ctl = stopwise.Controller("patience=3")
        ctl.report(tokens=1, em=1)
        blob = ctl.state()
        for bad in (b"", b"not a controller", blob[: len(blob) // 2]):
            with self.assertRaises(stopwise.StopwiseError) as cm:
                stopwise.Controller.restore(bad)
            self.assertTrue(str(cm.exception))
        with self.assertRaises(TypeError):
            stopwise.Controller.restore(12)


if __name__ == "__main__":
    support.main()
